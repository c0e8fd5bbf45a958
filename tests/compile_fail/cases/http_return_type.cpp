// clang-format off
// (the `// expect:` lines are compared with the compiler output as they are)
// An HTTP handler returning something a tomodachi::Response does not convert from.
// expect: tomodachi: an HTTP handler must return something a tomodachi::Response converts from
#include <tomodachi/tomodachi.hpp>

#include <vector>

class Shop : public tomodachi::Service {
 public:
  Shop() : Service("shop") { http<&Shop::items>("GET", "/items"); }
  tomodachi::Task<std::vector<int>> items(tomodachi::Request& request) {
    co_return std::vector<int>{1};
  }
};

int main() { Shop shop; }
