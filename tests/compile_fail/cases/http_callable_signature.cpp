// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// A named http callable that does not take tomodachi::Request&.
// expect: tomodachi: an http handler callable must be `R (tomodachi::Request&)` or `tomodachi::Task<R> (tomodachi::Request&)` where R converts to tomodachi::Response
#include <tomodachi/tomodachi.hpp>

class Svc : public tomodachi::Service {
 public:
  Svc() : Service("svc") {
    http("GET", "/items", "items", [](const std::string& path) { return path; });
  }
};

int main() { Svc svc; }
