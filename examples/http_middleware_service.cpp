// HTTP middleware and guards: `tomodachi run examples/http_middleware_service.cpp`
//   curl -i http://localhost:9700/hello             → "hello" + X-Request-Id + X-Elapsed
//   curl -i http://localhost:9700/hello -H 'X-Maintenance: 1'   → 503 from the middleware
//   curl -i http://localhost:9700/items/42          → the guard allows even ids only
//   curl -i http://localhost:9700/items/7           → 403 from the guard
#include <tomodachi/tomodachi.hpp>

#include <chrono>

class MiddlewareExample : public tomodachi::Service {
 public:
  MiddlewareExample() : Service("http-middleware-example") {
    // Middlewares run in the order added; the first is the outermost.
    http_middleware<&MiddlewareExample::timing>();
    http_middleware<&MiddlewareExample::maintenance>();

    http<&MiddlewareExample::hello>("GET", "/hello");
    // Guards run just before the handler and may answer instead of it.
    http<&MiddlewareExample::item, &MiddlewareExample::even_ids_only>("GET",
                                                                      R"(/items/(?P<id>\d+))");
  }

  // Measures the whole chain and tags the response.
  tomodachi::Task<tomodachi::Response> timing(tomodachi::HttpNext& next,
                                              tomodachi::Request& request) {
    const auto started = std::chrono::steady_clock::now();
    request.context()["request_id"] = request_counter_++;
    tomodachi::Response response = co_await next();
    const auto elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    response.header("X-Request-Id", std::to_string(request.context()["request_id"].as_int64()));
    response.header("X-Elapsed", std::to_string(elapsed));
    co_return response;
  }

  // Short-circuits: the handler never runs while the header is set.
  tomodachi::Task<tomodachi::Response> maintenance(tomodachi::HttpNext& next,
                                                   tomodachi::Request& request) {
    if (request.header("X-Maintenance")) co_return tomodachi::Response{503, "down for maintenance"};
    co_return co_await next();
  }

  // A guard: std::nullopt lets the handler run; a response is sent instead of it.
  tomodachi::Task<std::optional<tomodachi::Response>> even_ids_only(tomodachi::Request& request) {
    if (std::stoll(std::string(request.match("id"))) % 2 != 0) {
      co_return tomodachi::Response{403, "odd ids are not served here"};
    }
    co_return std::nullopt;
  }

  tomodachi::Task<tomodachi::Response> hello(tomodachi::Request&) { co_return "hello"; }

  tomodachi::Task<tomodachi::Response> item(tomodachi::Request& request) {
    co_return tomodachi::Response::json({{"id", std::string(request.match("id"))}, {"even", true}});
  }

 private:
  std::int64_t request_counter_ = 0;
};

TOMODACHI_SERVICE(MiddlewareExample);
