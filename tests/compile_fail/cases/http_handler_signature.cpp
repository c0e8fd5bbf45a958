// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// An http<> handler that does not take tomodachi::Request&.
// expect: tomodachi: an http handler must be `R fn(tomodachi::Request&)` or `tomodachi::Task<R> fn(tomodachi::Request&)` where R converts to tomodachi::Response
#include <tomodachi/tomodachi.hpp>

class Svc : public tomodachi::Service {
 public:
  Svc() : Service("svc") { http<&Svc::items>("GET", "/items"); }
  tomodachi::Task<std::string> items(int page) { co_return "x"; }
};

int main() { Svc svc; }
