// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// A scheduled member function with a signature schedule<> does not accept.
// expect: tomodachi: a scheduled function is Task<void> f() or Task<void> f(const ScheduleInvocation&)
#include <tomodachi/tomodachi.hpp>

class Reports : public tomodachi::Service {
 public:
  Reports() : Service("reports") {
    schedule<&Reports::tick>(tomodachi::every(std::chrono::seconds(5)));
  }
  tomodachi::Task<void> tick(int count) { co_return; }
};

int main() { Reports reports; }
