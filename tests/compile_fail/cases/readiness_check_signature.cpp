// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// A readiness check that returns Task<bool> instead of Task<HealthCheck>.
// expect: tomodachi: a readiness check is Task<tomodachi::HealthCheck> f()
#include <tomodachi/tomodachi.hpp>

class Shop : public tomodachi::Service {
 public:
  Shop() : Service("shop") {
    options.health.enabled = true;
    readiness_check<&Shop::database>("database");
  }
  tomodachi::Task<bool> database() { co_return true; }
};

int main() { Shop shop; }
