// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// An aws_sns_sqs<> handler that is not a coroutine.
// expect: tomodachi: an aws_sns_sqs handler must be `tomodachi::Task<void> fn(tomodachi::Message&)`
#include <tomodachi/tomodachi.hpp>

class Svc : public tomodachi::Service {
 public:
  Svc() : Service("svc") { aws_sns_sqs<&Svc::on_order>("order-created"); }
  void on_order(tomodachi::Message& message) {}
};

int main() { Svc svc; }
