// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// schedule<> of a member function of a class that is not a tomodachi::Service.
// expect: tomodachi: a handler <&Class::fn> must be a member function of a class derived from tomodachi::Service
#include <tomodachi/tomodachi.hpp>

struct Clock {
  tomodachi::Task<void> tick() { co_return; }
};

class Reports : public tomodachi::Service {
 public:
  Reports() : Service("reports") {
    schedule<&Clock::tick>(tomodachi::every(std::chrono::seconds(1)));
  }
};

int main() { Reports reports; }
