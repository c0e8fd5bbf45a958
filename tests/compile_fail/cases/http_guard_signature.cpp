// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// A guard returning something that is not an optional response.
// expect: tomodachi: an http guard must be `tomodachi::Task<std::optional<tomodachi::Response>> fn(tomodachi::Request&)` (or return void, Task<void> or std::optional<tomodachi::Response>)
#include <tomodachi/tomodachi.hpp>

class Svc : public tomodachi::Service {
 public:
  Svc() : Service("svc") { http<&Svc::items, &Svc::check>("GET", "/items"); }
  tomodachi::Task<std::string> items(tomodachi::Request&) { co_return "x"; }
  tomodachi::Task<bool> check(tomodachi::Request&) { co_return true; }
};

int main() { Svc svc; }
