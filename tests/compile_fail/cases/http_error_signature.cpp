// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// An http_error<> handler that takes no request.
// expect: tomodachi: an http handler must be `R fn(tomodachi::Request&)` or `tomodachi::Task<R> fn(tomodachi::Request&)` where R converts to tomodachi::Response
#include <tomodachi/tomodachi.hpp>

class Svc : public tomodachi::Service {
 public:
  Svc() : Service("svc") { http_error<&Svc::not_found>(404); }
  tomodachi::Task<std::string> not_found() { co_return "gone"; }
};

int main() { Svc svc; }
