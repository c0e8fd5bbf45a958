// The service measured by bench/http/run_bench.py: plaintext, JSON and a regex route
// with a named group, access log off, keep-alive per environment.
#include <tomodachi/tomodachi.hpp>

#include <cstdlib>

class BenchService : public tomodachi::Service {
 public:
  BenchService() : Service("http-bench") {
    options.http.port = std::atoi(std::getenv("BENCH_PORT") ? std::getenv("BENCH_PORT") : "9700");
    options.http.host = "127.0.0.1";
    options.http.access_log = false;
    options.http.keepalive_timeout =
        std::atoi(std::getenv("BENCH_KEEPALIVE") ? std::getenv("BENCH_KEEPALIVE") : "75");
    http<&BenchService::plaintext>("GET", "/plaintext");
    http<&BenchService::json>("GET", "/json");
    http<&BenchService::resource>("GET", R"(/resource/(?P<id>[^/]+?)/?)");
  }

  tomodachi::Task<tomodachi::Response> plaintext(tomodachi::Request&) { co_return "Hello, World!"; }

  tomodachi::Task<tomodachi::Response> json(tomodachi::Request&) {
    co_return tomodachi::Response::json({{"message", "Hello, World!"}});
  }

  tomodachi::Task<tomodachi::Response> resource(tomodachi::Request& request) {
    co_return "id = " + std::string(request.match("id"));
  }
};

TOMODACHI_SERVICE(BenchService);
