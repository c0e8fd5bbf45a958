// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// An http_middleware<> member with the arguments the wrong way round.
// expect: tomodachi: an http middleware must be `tomodachi::Task<tomodachi::Response> fn(tomodachi::HttpNext& next, tomodachi::Request&)`
#include <tomodachi/tomodachi.hpp>

class Svc : public tomodachi::Service {
 public:
  Svc() : Service("svc") { http_middleware<&Svc::middleware>(); }
  tomodachi::Task<tomodachi::Response> middleware(tomodachi::Request& request, tomodachi::HttpNext& next) {
    co_return co_await next();
  }
};

int main() { Svc svc; }
