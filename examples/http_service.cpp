// Basic HTTP based service: `tomodachi run examples/http_service.cpp`
// (the seed's "Basic HTTP based service"), then try
//   curl http://localhost:9700/resource/4711
//   curl http://localhost:9700/health
//   curl http://localhost:9700/nothing-here
#include <tomodachi/tomodachi.hpp>

class HttpExample : public tomodachi::Service {
 public:
  HttpExample() : Service("http-example") {
    // Request paths are specified as regex for full flexibility
    http<&HttpExample::resource>("GET", R"(/resource/(?P<id>[^/]+?)/?)");
    http<&HttpExample::health_check>("GET", R"(/health)");
    // Specify custom 404 catch-all response
    http_error<&HttpExample::error_404>(404);
  }

  tomodachi::Task<tomodachi::Response> resource(tomodachi::Request& request) {
    // Returning a string value normally means 200 OK
    co_return "id = " + std::string(request.match("id"));
  }

  tomodachi::Task<tomodachi::Response> health_check(tomodachi::Request&) {
    // A response can also carry a status, headers, bytes or JSON
    co_return tomodachi::Response{200, "Healthy"};
  }

  tomodachi::Task<tomodachi::Response> error_404(tomodachi::Request&) { co_return "error 404"; }
};

TOMODACHI_SERVICE(HttpExample);
