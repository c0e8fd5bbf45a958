// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// A scheduled callable taking an argument schedule() cannot give it.
// expect: tomodachi: a scheduled callable returns Task<void> and takes () or (const ScheduleInvocation&)
#include <tomodachi/tomodachi.hpp>

class Reports : public tomodachi::Service {
 public:
  Reports() : Service("reports") {
    schedule(tomodachi::every(std::chrono::seconds(5)), "tick",
             [](int count) -> tomodachi::Task<void> { co_return; });
  }
};

int main() { Reports reports; }
