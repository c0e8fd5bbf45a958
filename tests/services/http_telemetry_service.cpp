// An HTTP service for the OpenTelemetry end-to-end test (tests/e2e/test_telemetry_http.py):
// a route with a regex group whose handler logs a record and adds an attribute to the
// current span, one that throws, and one the test excludes by OTEL_*_EXCLUDED_URLS.
#include <tomodachi/tomodachi.hpp>
#include <tomodachi/trace.hpp>

#include <stdexcept>

class TelemetryService : public tomodachi::Service {
 public:
  TelemetryService() : Service("orders") {
    options.http.port = 0;
    http<&TelemetryService::resource>("GET", R"(^/resource/(?P<id>[^/]+?)/?$)");
    http<&TelemetryService::fail>("GET", "/fail");
    http<&TelemetryService::health>("GET", "/health");
  }

  tomodachi::Task<std::string> resource(tomodachi::Request& request) {
    auto span = tomodachi::trace::current_span();
    span.set_attribute("test.handler_saw_span", span.valid());
    logger().info("handling resource", {{"id", std::string(request.match("id"))},
                                        {"handler_trace_id", span.trace_id_hex()}});
    co_return "resource " + std::string(request.match("id"));
  }
  tomodachi::Task<std::string> fail(tomodachi::Request&) {
    throw std::runtime_error("telemetry test failure");
    co_return "";
  }
  tomodachi::Task<std::string> health(tomodachi::Request&) { co_return "ok"; }
};

TOMODACHI_SERVICE(TelemetryService);
