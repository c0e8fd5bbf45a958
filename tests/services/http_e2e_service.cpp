// The service of tests/e2e/http_transport_test.py: the routes of upstream's
// tests/services/http_service.py plus what the C++ transport adds. Options come from
// environment variables so one build serves every scenario.
#include <tomodachi/tomodachi.hpp>

#include <cstdlib>
#include <filesystem>

namespace {
std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}
}  // namespace

class HttpE2eService : public tomodachi::Service {
 public:
  HttpE2eService() : Service("test_http") {
    options.http.port = 0;  // random port, reported in `accepting http requests`
    options.http.real_ip_from = {"127.0.0.1"};
    if (auto log = env("HTTP_E2E_ACCESS_LOG")) options.http.access_log = *log;
    if (auto value = env("HTTP_E2E_KEEPALIVE_TIMEOUT"))
      options.http.keepalive_timeout = std::stoi(*value);
    if (auto value = env("HTTP_E2E_MAX_KEEPALIVE_REQUESTS"))
      options.http.max_keepalive_requests = std::stoi(*value);
    if (auto value = env("HTTP_E2E_MAX_KEEPALIVE_TIME"))
      options.http.max_keepalive_time = std::stoi(*value);
    if (auto value = env("HTTP_E2E_GRACE"))
      options.http.termination_grace_period_seconds = std::stoi(*value);
    if (auto value = env("HTTP_E2E_HEADER_TIMEOUT"))
      options.http.header_read_timeout = std::stoi(*value);
    if (auto value = env("HTTP_E2E_CLIENT_MAX_SIZE")) options.http.client_max_size = *value;
    if (auto value = env("HTTP_E2E_PORT")) options.http.port = std::stoi(*value);
    if (env("HTTP_E2E_NO_REUSE_PORT")) options.http.reuse_port = false;

    http<&HttpE2eService::test>("GET", "/test/?");
    http<&HttpE2eService::test_id>("GET", R"(/test/(?P<id>[^/]+?)/?)");
    http<&HttpE2eService::dict_like>("GET", "/dict");
    http<&HttpE2eService::tuple_like>("GET", "/tuple");
    http<&HttpE2eService::explicit_response>("GET", "/response");
    http<&HttpE2eService::exception>("GET", "/exception");
    http<&HttpE2eService::slow>("GET", "/slow");
    http<&HttpE2eService::slow_exception>("GET", "/slow-exception/?");
    // upstream's stacked decorators on one handler (spec/http.md §2 vectors)
    http<&HttpE2eService::values>("GET", R"(/x/(?P<value1>[^/]+)/?)");
    http<&HttpE2eService::values>("GET", R"(/y(?P<value1>[^/]+)/(?P<value2>[^/]+)/?)");
    http<&HttpE2eService::values>("GET", "/z/?");
    http<&HttpE2eService::passthrough>("GET", "/content-type/passthrough");
    http<&HttpE2eService::latin1>("GET", "/content-type/latin1");
    http<&HttpE2eService::unencodable>("GET", "/content-type/unencodable");
    http<&HttpE2eService::bad_charset>("GET", "/content-type/utf-9");
    http<&HttpE2eService::empty>("GET", "/empty");
    http<&HttpE2eService::bytes>("GET", "/bytes");
    http<&HttpE2eService::none>("GET", "/none");
    http<&HttpE2eService::forwarded_for>("GET", "/forwarded-for");
    http<&HttpE2eService::authorization>("GET", "/authorization");
    http<&HttpE2eService::echo>("POST", "/echo");
    http<&HttpE2eService::uuid_of_service>("GET", "/get-uuid");
    http<&HttpE2eService::file_upload>("POST", "/file-upload");
    http<&HttpE2eService::test>("GET", "/test_ignore_all", {.ignore_logging = true});
    http<&HttpE2eService::created>("POST", "/test_ignore_one", {.ignore_logging_statuses = {200}});
    // ccache may record relative source paths: ctest gives the source folder.
    const std::string files =
        env("TOMODACHI_SOURCE_DIR").value_or(".") + "/tests/services/static_files";
    http_static(files, "/static/");
    http_static(files, R"(/download/(?P<filename>[^/]+?)/image)");
    websocket<&HttpE2eService::websocket_data>("/websocket-data");
    http_middleware<&HttpE2eService::middleware>();
    http_error<&HttpE2eService::error_404>(404);
  }

  // Upstream test_start_process_http_1: clients are refused until the start hooks finished.
  tomodachi::Task<void> start_service() override {
    if (auto value = env("HTTP_E2E_START_SLEEP")) co_await tomodachi::sleep(std::stod(*value));
  }

  tomodachi::Task<tomodachi::Response> test(tomodachi::Request&) { co_return "test"; }
  tomodachi::Task<std::string> test_id(tomodachi::Request& request) {
    co_return "test " + std::string(request.match("id"));
  }
  tomodachi::Task<tomodachi::Response> dict_like(tomodachi::Request&) {
    co_return tomodachi::Response{200, "test dict", {{"X-Dict", "test"}}};
  }
  tomodachi::Task<tomodachi::Response> tuple_like(tomodachi::Request&) {
    co_return tomodachi::Response(200, "test tuple", {{"X-Tuple", "test"}});
  }
  tomodachi::Task<tomodachi::Response> explicit_response(tomodachi::Request&) {
    co_return tomodachi::Response(200, "test tomodachi response",
                                  {{"X-Tomodachi-Response", "test"}});
  }
  tomodachi::Task<tomodachi::Response> exception(tomodachi::Request&) {
    throw std::runtime_error("test exception");
    co_return "";
  }
  tomodachi::Task<tomodachi::Response> slow(tomodachi::Request&) {
    co_await tomodachi::sleep(2.0);
    co_return "slow";
  }
  tomodachi::Task<tomodachi::Response> slow_exception(tomodachi::Request&) {
    co_await tomodachi::sleep(2.0);
    throw std::runtime_error("test slow exception");
    co_return "never";
  }
  tomodachi::Task<std::string> values(tomodachi::Request& request) {
    co_return std::string(request.path()) + " " + std::string(request.match("value1")) + " " +
        std::string(request.match("value2"));
  }
  tomodachi::Task<tomodachi::Response> passthrough(tomodachi::Request&) {
    co_return tomodachi::Response(200, "test", {{"Content-Type", "text/plain; "}});
  }
  tomodachi::Task<tomodachi::Response> latin1(tomodachi::Request&) {
    co_return tomodachi::Response(200, "test åäö",
                                  {{"Content-Type", "text/plain; charset=iso-8859-1"}});
  }
  tomodachi::Task<tomodachi::Response> unencodable(tomodachi::Request&) {
    co_return tomodachi::Response(200, "test 友達",
                                  {{"Content-Type", "text/plain; charset=iso-8859-1"}});
  }
  tomodachi::Task<tomodachi::Response> bad_charset(tomodachi::Request&) {
    co_return tomodachi::Response(200, "test", {{"Content-Type", "text/plain; charset=utf-9"}});
  }
  tomodachi::Task<tomodachi::Response> empty(tomodachi::Request&) { co_return ""; }
  tomodachi::Task<tomodachi::Bytes> bytes(tomodachi::Request&) {
    co_return tomodachi::Bytes{"test åäö"};
  }
  tomodachi::Task<void> none(tomodachi::Request&) { co_return; }
  tomodachi::Task<std::string> forwarded_for(tomodachi::Request& request) {
    co_return std::string(request.remote_ip());
  }
  tomodachi::Task<std::string> authorization(tomodachi::Request& request) {
    co_return std::string(request.auth_user());
  }
  tomodachi::Task<tomodachi::Response> echo(tomodachi::Request& request) {
    co_return tomodachi::Response(200, std::string(request.body()));
  }
  tomodachi::Task<std::string> uuid_of_service(tomodachi::Request&) { co_return uuid(); }
  tomodachi::Task<tomodachi::Response> file_upload(tomodachi::Request& request) {
    const tomodachi::FormField* file = request.form_field("file");
    if (!file || !file->filename) co_return tomodachi::Response{400, "no file"};
    co_return tomodachi::Bytes{*file->filename + ": " + file->value};
  }
  tomodachi::Task<tomodachi::Response> created(tomodachi::Request& request) {
    co_return tomodachi::Response(request.header("X-Status") == "201" ? 201 : 200, "created!");
  }
  tomodachi::Task<tomodachi::WebsocketCallbacks> websocket_data(tomodachi::Websocket& websocket,
                                                                tomodachi::Request& request) {
    std::string agent(request.header("User-Agent").value_or(""));
    co_await websocket.send_str("user-agent: " + agent);
    co_return tomodachi::WebsocketCallbacks{
        .on_receive = [websocket](std::string text) mutable -> tomodachi::Task<void> {
          co_await websocket.send_str("received: " + text);
        }};
  }
  tomodachi::Task<tomodachi::Response> middleware(tomodachi::HttpNext& next,
                                                  tomodachi::Request& request) {
    auto mode = request.header("X-Use-Middleware");
    if (mode == "Before") co_return "before";
    tomodachi::Response response = co_await next();
    if (mode == "After") co_return "after";
    if (mode == "Set") response.header("X-Middleware", "set");
    co_return response;
  }
  tomodachi::Task<tomodachi::Response> error_404(tomodachi::Request&) { co_return "test 404"; }
};

TOMODACHI_SERVICE(HttpE2eService);
