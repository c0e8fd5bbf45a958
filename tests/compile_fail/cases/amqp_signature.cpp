// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// An amqp<> handler taking the data instead of the message.
// expect: tomodachi: an amqp handler must be `tomodachi::Task<void> fn(tomodachi::Message&)`
#include <tomodachi/tomodachi.hpp>

class Svc : public tomodachi::Service {
 public:
  Svc() : Service("svc") { amqp<&Svc::on_order>("order.created"); }
  tomodachi::Task<void> on_order(const boost::json::value& data) { co_return; }
};

int main() { Svc svc; }
