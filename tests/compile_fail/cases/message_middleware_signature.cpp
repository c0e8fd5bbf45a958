// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// An add_message_middleware<> member written like an http middleware (no context, next first).
// expect: tomodachi: a message middleware must be `tomodachi::Task<void> fn(tomodachi::Message&, tomodachi::MiddlewareContext&, const tomodachi::MessageNext& next)`
#include <tomodachi/tomodachi.hpp>

class Svc : public tomodachi::Service {
 public:
  Svc() : Service("svc") { add_message_middleware<&Svc::middleware>(); }
  tomodachi::Task<void> middleware(const tomodachi::MessageNext& next, tomodachi::Message& message) {
    co_await next();
  }
};

int main() { Svc svc; }
