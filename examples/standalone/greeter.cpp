// A service in its own binary: TOMODACHI_MAIN() gives it the options of `tomodachi run`
// (--production, --log-level, --logger, -c config.json).
#include <tomodachi/tomodachi.hpp>

class Greeter : public tomodachi::Service {
 public:
  Greeter() : Service("greeter") {
    options.http.port = 0;  // a random free port, logged in "accepting http requests"
    http<&Greeter::greet>("GET", R"(/greet/(?P<name>[^/]+))");
  }

  tomodachi::Task<tomodachi::Response> greet(tomodachi::Request& request) {
    co_return "hello, " + std::string(request.match("name")) + "!";
  }
};

TOMODACHI_SERVICE(Greeter);
TOMODACHI_MAIN();
