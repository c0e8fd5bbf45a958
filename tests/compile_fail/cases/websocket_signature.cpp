// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// A websocket<> handler missing the tomodachi::Websocket& parameter.
// expect: tomodachi: a websocket handler must be `tomodachi::Task<tomodachi::WebsocketCallbacks> fn(tomodachi::Websocket&, tomodachi::Request&)` (or return void, Task<void> or tomodachi::WebsocketCallbacks)
#include <tomodachi/tomodachi.hpp>

class Svc : public tomodachi::Service {
 public:
  Svc() : Service("svc") { websocket<&Svc::socket>("/ws"); }
  tomodachi::Task<tomodachi::WebsocketCallbacks> socket(tomodachi::Request&) { co_return tomodachi::WebsocketCallbacks{}; }
};

int main() { Svc svc; }
