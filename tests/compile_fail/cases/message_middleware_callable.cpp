// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// A message middleware lambda that forgets the context argument.
// expect: tomodachi: a message middleware callable must be invocable as `tomodachi::Task<void>(tomodachi::Message&, tomodachi::MiddlewareContext&, const tomodachi::MessageNext& next)`
#include <tomodachi/tomodachi.hpp>

class Svc : public tomodachi::Service {
 public:
  Svc() : Service("svc") {
    add_message_middleware(
        [](tomodachi::Message&, const tomodachi::MessageNext& next) -> tomodachi::Task<void> {
          co_await next();
        });
  }
};

int main() { Svc svc; }
