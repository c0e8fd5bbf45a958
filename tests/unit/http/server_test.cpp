// The HTTP transport driven directly on an io_context with real sockets: routes, response
// shapes, errors, middleware, guards, keep-alive, limits, static files, websockets, drain.

#include "log_capture.hpp"
#include "test_client.hpp"
#include "wait_until.hpp"

#include <tomodachi/context.hpp>
#include <tomodachi/http.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

using namespace std::chrono_literals;
using http_test::Connection;
using http_test::get;
using http_test::request;
using http_test::server_took_everything_in;
using http_test::wait_until;
using tomodachi::Request;
using tomodachi::Response;
using tomodachi::Task;

namespace {

std::atomic<bool> slow_finished{false};
std::atomic<int> guard_counter{0};

class TestService : public tomodachi::Service {
 public:
  TestService() : Service("test_http") {
    options.http.port = 0;
    options.http.host = "127.0.0.1";
    options.http.real_ip_from = {"127.0.0.1"};
    http<&TestService::test>("GET", "/test/?");
    http<&TestService::test_id>("GET", R"(/test/(?P<id>[^/]+?)/?)");
    http<&TestService::dict_like>("GET", "/dict");
    http<&TestService::tuple_like>("GET", "/tuple");
    http<&TestService::explicit_response>("GET", "/response");
    http<&TestService::exception>("GET", "/exception");
    http<&TestService::redirect>("GET", "/redirect");
    http<&TestService::slow>("GET", "/slow");
    http<&TestService::passthrough>("GET", "/content-type/passthrough");
    http<&TestService::latin1>("GET", "/content-type/latin1");
    http<&TestService::unencodable>("GET", "/content-type/unencodable");
    http<&TestService::bad_charset>("GET", "/content-type/utf-9");
    http<&TestService::empty>("GET", "/empty");
    http<&TestService::bytes>("GET", "/bytes");
    http<&TestService::none>("GET", "/none");
    http<&TestService::plain>("GET", "/plain");
    http<&TestService::json>("GET", "/json");
    http<&TestService::forwarded_for>("GET", "/forwarded-for");
    http<&TestService::authorization>("GET", "/authorization");
    http<&TestService::echo>({"POST", "PUT"}, "/echo");
    http<&TestService::values>("GET", R"(/x/(?P<value1>[^/]+)/?)");
    http<&TestService::values>("GET", R"(/y(?P<value1>[^/]+)/(?P<value2>[^/]+)/?)");
    http<&TestService::values>("GET", "/z/?");
    http<&TestService::counted, &TestService::count_guard>("GET", "/count/(?P<n>[0-9]+)");
    http<&TestService::test>("GET", "/quiet", {.ignore_logging = true});
    http<&TestService::created>("POST", "/ignore-200", {.ignore_logging_statuses = {200}});
    http("GET", "/lambda", "lambda_handler", [](Request& request) -> Task<Response> {
      co_return Response(201, "lambda " + std::string(request.query("q").value_or("-")));
    });
    // ccache may compile with relative paths; ctest gives the source folder.
    const char* source_dir = std::getenv("TOMODACHI_SOURCE_DIR");
    std::string files =
        source_dir ? std::string(source_dir) + "/tests/unit/http/static_files" : "static_files";
    http_static(files, "/static/");
    http_static(files, R"(/download/(?P<filename>[^/]+?)/image)");
    websocket<&TestService::websocket_data>("/websocket-data");
    websocket<&TestService::websocket_temporary>("/websocket-temporary");
    http<&TestService::custom_error_body>("GET", "/custom-error-body");
    http<&TestService::form_fields>("POST", "/form");
    http_middleware<&TestService::middleware>();
    http_error<&TestService::error_404>(404);
  }

  Task<Response> test(Request&) { co_return "test"; }
  Task<std::string> test_id(Request& request) {
    co_return "test " + std::string(request.match("id"));
  }
  Task<Response> dict_like(Request&) { co_return Response{200, "test dict", {{"X-Dict", "test"}}}; }
  Task<Response> tuple_like(Request&) {
    co_return Response(200, "test tuple", {{"X-Tuple", "test"}});
  }
  Task<Response> explicit_response(Request&) {
    Response response(200, "test tomodachi response", {{"X-Tomodachi-Response", "test"}});
    co_return response;
  }
  Task<Response> exception(Request&) {
    throw std::runtime_error("test exception");
    co_return "never";
  }
  Task<Response> redirect(Request&) {
    throw tomodachi::HttpError(302, {{"Location", "/test"}});
    co_return "never";
  }
  Task<Response> slow(Request&) {
    co_await tomodachi::sleep(std::chrono::milliseconds(1500));
    slow_finished = true;
    co_return "slow";
  }
  Task<Response> passthrough(Request&) {
    co_return Response(200, "test", {{"Content-Type", "text/plain; "}});
  }
  Task<Response> latin1(Request&) {
    co_return Response(200, "test \xC3\xA5\xC3\xA4\xC3\xB6",
                       {{"Content-Type", "text/plain; charset=iso-8859-1"}});
  }
  Task<Response> unencodable(Request&) {
    co_return Response(200, "test \xE5\x8F\x8B\xE9\x81\x94",
                       {{"Content-Type", "text/plain; charset=iso-8859-1"}});
  }
  Task<Response> bad_charset(Request&) {
    co_return Response(200, "test", {{"Content-Type", "text/plain; charset=utf-9"}});
  }
  Task<Response> empty(Request&) { co_return ""; }
  Task<tomodachi::Bytes> bytes(Request&) {
    co_return tomodachi::Bytes{"test \xc3\xa5\xc3\xa4\xc3\xb6"};
  }
  Task<void> none(Request&) { co_return; }
  std::string plain(Request&) { return "plain function"; }
  Task<boost::json::value> json(Request&) { co_return boost::json::value{{"ok", true}}; }
  Task<std::string> forwarded_for(Request& request) { co_return std::string(request.remote_ip()); }
  Task<std::string> authorization(Request& request) { co_return std::string(request.auth_user()); }
  Task<Response> echo(Request& request) {
    co_return Response(200, std::string(request.method()) + ":" + std::string(request.body()));
  }
  Task<std::string> values(Request& request) {
    co_return std::string(request.path()) + " " + std::string(request.match("value1")) + " " +
        std::string(request.match("value2"));
  }
  Task<std::optional<Response>> count_guard(Request& request) {
    int value = ++guard_counter;
    if (request.match("n") == "0") co_return Response("0");
    request.context()["count"] = value;
    co_return std::nullopt;
  }
  Task<std::string> counted(Request& request) {
    co_return std::to_string(request.context().at("count").as_int64());
  }
  Task<Response> created(Request& request) {
    co_return Response(request.body() == "201" ? 201 : 200, "created!");
  }
  Task<tomodachi::WebsocketCallbacks> websocket_temporary(tomodachi::Websocket& websocket,
                                                          Request&) {
    co_return tomodachi::WebsocketCallbacks{
        .on_receive = [websocket](std::string text) -> Task<void> {
          std::optional<tomodachi::Websocket> copy(websocket);
          auto task = copy->send_str("from a temporary: " + text);
          copy.reset();
          copy.emplace();  // the handle's storage now holds an empty handle
          co_await std::move(task);
        }};
  }
  Task<Response> custom_error_body(Request&) {
    throw tomodachi::HttpError(422, {{"X-Reason", "fields"}}, "field 'name' is required");
    co_return "";
  }
  Task<std::string> form_fields(Request& request) {
    co_return std::to_string(request.form().size());
  }
  Task<tomodachi::WebsocketCallbacks> websocket_data(tomodachi::Websocket& websocket,
                                                     Request& request) {
    request.logger().info("websocket connected");
    co_return tomodachi::WebsocketCallbacks{
        .on_receive = [websocket](std::string text) mutable -> Task<void> {
          received = text;
          co_await websocket.send_str("echo: " + text);
        },
        .on_close = []() -> Task<void> {
          websocket_closed = true;
          co_return;
        }};
  }
  Task<Response> middleware(tomodachi::HttpNext& next, Request& request) {
    auto mode = request.header("X-Use-Middleware");
    if (mode == "Before") co_return "before";
    request.context()["middleware"] = true;
    Response response = co_await next();
    if (mode == "After") co_return "after";
    if (mode == "Set") response.headers.emplace_back("X-Middleware", "set");
    co_return response;
  }
  Task<Response> error_404(Request&) { co_return "test 404"; }

  static inline std::string received;
  static inline std::atomic<bool> websocket_closed{false};
};

/// Runs a service's HTTP transport on its own loop thread.
template <typename ServiceType>
class Harness {
 public:
  template <typename Configure>
  explicit Harness(Configure configure) {
    configure(service_);
    start();
  }
  Harness() { start(); }

  ~Harness() {
    if (!stopped_) stop(5s);
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return *tomodachi::http_port(service_); }
  ServiceType& service() { return service_; }

  void stop(std::chrono::steady_clock::duration grace) {
    stopped_ = true;
    auto deadline = std::chrono::steady_clock::now() + grace;
    auto done = boost::asio::co_spawn(io_, transport_->stop(deadline), boost::asio::use_future);
    done.get();
  }

  /// Starts stopping without waiting; returns the future.
  std::future<void> stop_async(std::chrono::steady_clock::duration grace) {
    stopped_ = true;
    auto deadline = std::chrono::steady_clock::now() + grace;
    return boost::asio::co_spawn(io_, transport_->stop(deadline), boost::asio::use_future);
  }

 private:
  void start() {
    tomodachi::test_stubs::capture();
    std::vector<const tomodachi::HandlerSpec*> specs;
    for (const auto& spec : service_.handlers()) specs.push_back(spec.get());
    transport_ = tomodachi::test_stubs::transport_factory("http")(service_, specs);
    thread_ = std::thread([this] {
      auto guard = boost::asio::make_work_guard(io_);
      io_.run();
    });
    auto ready = boost::asio::co_spawn(
        io_,
        [this]() -> Task<void> {
          co_await transport_->setup();
          co_await transport_->start();
        },
        boost::asio::use_future);
    try {
      ready.get();
    } catch (...) {
      io_.stop();
      thread_.join();
      throw;
    }
  }

  boost::asio::io_context io_;
  ServiceType service_;
  std::unique_ptr<tomodachi::TransportInstance> transport_;
  std::thread thread_;
  bool stopped_ = false;
};

std::vector<tomodachi::test_stubs::CapturedRecord> records_of(const std::string& logger) {
  std::vector<tomodachi::test_stubs::CapturedRecord> out;
  for (auto& record : tomodachi::test_stubs::captured()) {
    if (record.logger == logger) out.push_back(record);
  }
  return out;
}

const boost::json::value* field(const tomodachi::test_stubs::CapturedRecord& record,
                                const std::string& key) {
  for (const auto& f : record.fields) {
    if (f.key == key) return &f.value;
  }
  return nullptr;
}

/// Waits (at most 5 s) until a captured record satisfies `predicate`.
template <typename Predicate>
bool wait_for_record(Predicate predicate) {
  return wait_until([&] {
    for (auto& record : tomodachi::test_stubs::captured()) {
      if (predicate(record)) return true;
    }
    return false;
  });
}

/// Waits (at most 5 s) until the access log has a record of `path` (with `status`, if given).
bool wait_for_access_record(const std::string& path, int status = 0) {
  return wait_for_record([&](const tomodachi::test_stubs::CapturedRecord& record) {
    auto request_path = field(record, "request_path");
    auto status_code = field(record, "status_code");
    return record.logger == "tomodachi.http.response" && request_path &&
           request_path->as_string() == path &&
           (status == 0 || (status_code && status_code->as_int64() == status));
  });
}

/// True once the peer of `fd` ended its sending side and nothing is left to read (an end of
/// stream, not a reset).
bool peer_half_closed(int fd) {
  char byte = 0;
  return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/// The current value of an execution-context counter (-1 when missing).
std::int64_t context_int(const std::string& key);

class HttpServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { harness_ = new Harness<TestService>(); }
  static void TearDownTestSuite() {
    delete harness_;
    harness_ = nullptr;
  }
  static int port() { return harness_->port(); }
  static inline Harness<TestService>* harness_ = nullptr;
};

TEST_F(HttpServer, ResponseShapes) {
  auto reply = request(port(), get("/test"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "test");
  EXPECT_EQ(reply->header("server"), "tomodachi");
  EXPECT_EQ(reply->header("content-type"), "text/plain; charset=utf-8");

  reply = request(port(), get("/dict"));
  EXPECT_EQ(reply->body, "test dict");
  EXPECT_EQ(reply->header("x-dict"), "test");
  reply = request(port(), get("/tuple"));
  EXPECT_EQ(reply->body, "test tuple");
  EXPECT_EQ(reply->header("x-tuple"), "test");
  reply = request(port(), get("/response"));
  EXPECT_EQ(reply->body, "test tomodachi response");
  EXPECT_EQ(reply->header("x-tomodachi-response"), "test");
  reply = request(port(), get("/test/123456789"));
  EXPECT_EQ(reply->body, "test 123456789");

  reply = request(port(), get("/empty"));
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "");
  EXPECT_EQ(reply->header("content-length"), "0");
  EXPECT_EQ(reply->header("content-type"), "text/plain; charset=utf-8");
  reply = request(port(), get("/bytes"));
  EXPECT_EQ(reply->body, "test \xc3\xa5\xc3\xa4\xc3\xb6");
  EXPECT_EQ(reply->header("content-type"), "text/plain; charset=utf-8");
  reply = request(port(), get("/none"));
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "");
  reply = request(port(), get("/plain"));
  EXPECT_EQ(reply->body, "plain function");
  reply = request(port(), get("/json"));
  EXPECT_EQ(reply->body, "{\"ok\": true}");
  EXPECT_EQ(reply->header("content-type"), "application/json; charset=utf-8");
  reply = request(port(), get("/lambda?q=a+b%21"));
  EXPECT_EQ(reply->status, 201);
  EXPECT_EQ(reply->body, "lambda a b!");
}

TEST_F(HttpServer, ContentTypesAndCharsets) {
  auto reply = request(port(), get("/content-type/passthrough"));
  EXPECT_EQ(reply->header("content-type"), "text/plain; ");
  reply = request(port(), get("/content-type/latin1"));
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "test \xE5\xE4\xF6");
  reply = request(port(), get("/content-type/unencodable"));
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(reply->body, "Internal Server Error");
  reply = request(port(), get("/content-type/utf-9"));
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->header("content-type"), "text/plain; charset=utf-8");
}

TEST_F(HttpServer, ErrorsNotFoundMethodNotAllowedHead) {
  auto reply = request(port(), get("/unknown-path"));
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->body, "test 404");
  reply = request(port(), "POST /test HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->header("allow"), "GET,HEAD");  // as aiohttp: no space
  EXPECT_EQ(reply->body, "Method Not Allowed");
  reply = request(port(), "HEAD /test HTTP/1.1\r\nHost: x\r\n\r\n", true);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-length"), "4");
  reply = request(port(), get("/exception"));
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->body, "");
  EXPECT_EQ(reply->header("server"), "tomodachi");
  bool logged = false;
  for (auto& record : records_of("exception")) {
    logged |= record.message == "uncaught exception: test exception";
  }
  EXPECT_TRUE(logged);
  reply = request(port(), get("/redirect"));
  EXPECT_EQ(reply->status, 302);
  EXPECT_EQ(reply->header("location"), "/test");
  EXPECT_EQ(reply->body, "Found");
  // an HttpError's body is the answer when no http_error handler takes the status
  reply = request(port(), get("/custom-error-body"));
  EXPECT_EQ(reply->status, 422);
  EXPECT_EQ(reply->body, "field 'name' is required");
  EXPECT_EQ(reply->header("x-reason"), "fields");
  EXPECT_EQ(reply->header("content-type"), "text/plain; charset=utf-8");
  reply =
      request(port(),
              "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n"
              "Content-Length: 7\r\n\r\ngarbage");
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->body, "malformed multipart body");
  // handler exceptions carry the handler's fields
  bool with_fields = false;
  for (auto& record : records_of("exception")) {
    if (record.message == "uncaught exception: test exception" && field(record, "handler")) {
      with_fields = field(record, "handler")->as_string() == "exception" &&
                    field(record, "type")->as_string() == "tomodachi.http";
    }
  }
  EXPECT_TRUE(with_fields);
}

TEST_F(HttpServer, StatusLineEchoesTheRequestVersion) {
  // As aiohttp: an HTTP/1.0 request gets `HTTP/1.0 ...` on every response path.
  auto status_line = [&](const std::string& raw, bool head = false) {
    auto reply = request(port(), raw, head);
    return reply ? reply->status_line : std::string("no reply");
  };
  EXPECT_EQ(status_line("GET /test HTTP/1.0\r\n\r\n"), "HTTP/1.0 200 OK");
  EXPECT_EQ(status_line("GET /test HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 200 OK");
  EXPECT_EQ(status_line("GET /unknown-path HTTP/1.0\r\n\r\n"), "HTTP/1.0 404 Not Found");
  EXPECT_EQ(status_line("POST /test HTTP/1.0\r\nContent-Length: 0\r\n\r\n"),
            "HTTP/1.0 405 Method Not Allowed");
  EXPECT_EQ(status_line("GET /exception HTTP/1.0\r\n\r\n"), "HTTP/1.0 500 Internal Server Error");
  // static files, their 304/206/416 and the http_error answer of a missing file
  EXPECT_EQ(status_line("GET /static/image.png HTTP/1.0\r\n\r\n"), "HTTP/1.0 200 OK");
  EXPECT_EQ(status_line("HEAD /static/image.png HTTP/1.0\r\n\r\n", true), "HTTP/1.0 200 OK");
  EXPECT_EQ(status_line("GET /static/image.png HTTP/1.0\r\nRange: bytes=1-3\r\n\r\n"),
            "HTTP/1.0 206 Partial Content");
  EXPECT_EQ(status_line("GET /static/image.png HTTP/1.0\r\nRange: bytes=100-\r\n\r\n"),
            "HTTP/1.0 416 Requested Range Not Satisfiable");
  auto full = request(port(), "GET /static/image.png HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(full);
  EXPECT_EQ(status_line("GET /static/image.png HTTP/1.0\r\nIf-Modified-Since: " +
                            full->header("last-modified") + "\r\n\r\n",
                        true),
            "HTTP/1.0 304 Not Modified");
  EXPECT_EQ(status_line("GET /static/missing.png HTTP/1.0\r\n\r\n"), "HTTP/1.0 404 Not Found");
  // protocol errors: a bad header, a head over the limit, a declared body over the limit,
  // a refused websocket handshake
  EXPECT_EQ(status_line("GET /test HTTP/1.0\r\nX-A: a\rb\r\n\r\n"), "HTTP/1.0 400 Bad Request");
  EXPECT_EQ(status_line("GET /test HTTP/1.0\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"),
            "HTTP/1.0 431 Request Header Fields Too Large");
  EXPECT_EQ(status_line("POST /echo HTTP/1.0\r\nContent-Length: 999999999\r\n\r\n"),
            "HTTP/1.0 413 Request Entity Too Large");
  EXPECT_EQ(status_line("GET /websocket-data HTTP/1.0\r\n\r\n"), "HTTP/1.0 400 Bad Request");
  EXPECT_EQ(status_line("THIS IS NOT HTTP\r\n\r\n"), "HTTP/1.1 400 Bad Request");
}

TEST_F(HttpServer, NamedGroupsAndPercentDecoding) {
  EXPECT_EQ(request(port(), get("/x/4711"))->body, "/x/4711 4711 ");
  EXPECT_EQ(request(port(), get("/ytest/0"))->body, "/ytest/0 test 0");
  EXPECT_EQ(request(port(), get("/z"))->body, "/z  ");
  EXPECT_EQ(request(port(), get("/test/a%20b"))->body, "test a b");
}

TEST_F(HttpServer, RealIpAndBasicAuth) {
  EXPECT_EQ(request(port(), get("/forwarded-for"))->body, "127.0.0.1");
  EXPECT_EQ(
      request(port(), get("/forwarded-for", "X-Forwarded-For: 192.168.0.1, 10.0.0.1\r\n"))->body,
      "192.168.0.1");
  EXPECT_EQ(
      request(port(), get("/authorization", "Authorization: Basic YXV0aHVzZXI6c2VjcmV0YWY=\r\n"))
          ->body,
      "authuser");
  EXPECT_EQ(request(port(), get("/authorization", "Authorization: Basic 0123456789\r\n"))->body,
            "");
}

TEST_F(HttpServer, MiddlewareBeforeAfterSet) {
  EXPECT_EQ(request(port(), get("/test", "X-Use-Middleware: Before\r\n"))->body, "before");
  EXPECT_EQ(request(port(), get("/test", "X-Use-Middleware: After\r\n"))->body, "after");
  auto reply = request(port(), get("/test", "X-Use-Middleware: Set\r\n"));
  EXPECT_EQ(reply->body, "test");
  EXPECT_EQ(reply->header("x-middleware"), "set");
  // error handlers are wrapped too
  EXPECT_EQ(request(port(), get("/nothing-here", "X-Use-Middleware: Before\r\n"))->body, "before");
}

TEST_F(HttpServer, GuardsShortCircuitLikeDecorators) {
  guard_counter = 0;
  EXPECT_EQ(request(port(), get("/count/1"))->body, "1");
  EXPECT_EQ(request(port(), get("/count/1"))->body, "2");
  EXPECT_EQ(request(port(), get("/count/0"))->body, "0");
  EXPECT_EQ(guard_counter.load(), 3);
}

TEST_F(HttpServer, RequestBodiesAndLimits) {
  auto reply = request(port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(reply->body, "POST:hello");
  reply = request(port(),
                  "PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  EXPECT_EQ(reply->body, "PUT:abcde");
  // Expect: 100-continue
  Connection connection(port());
  connection.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  auto interim = connection.read_reply(true);
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  connection.send("abc");
  auto final_reply = connection.read_reply();
  ASSERT_TRUE(final_reply);
  EXPECT_EQ(final_reply->body, "POST:abc");
}

TEST_F(HttpServer, MalformedInputGetsDefinedAnswers) {
  // invalid request line
  auto reply = request(port(), "THIS IS NOT HTTP\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->header("connection"), "close");
  EXPECT_EQ(reply->header("server"), "tomodachi");
  // oversized headers
  reply = request(
      port(), "GET /test HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 431);
  // oversized body (declared)
  reply = request(port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  // bad chunked encoding
  reply = request(port(),
                  "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                  "chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  // header injection attempt via a bare LF in a header value
  reply = request(port(), "GET /test HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  // invalid websocket handshake (no upgrade headers), also as HEAD
  reply = request(port(), get("/websocket-data"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  reply = request(port(), "HEAD /websocket-data HTTP/1.1\r\nHost: x\r\n\r\n", true);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  // still serving
  EXPECT_EQ(request(port(), get("/test"))->body, "test");
}

TEST_F(HttpServer, StaticFilesStayInsideTheirFolder) {
  auto reply = request(port(), get("/static/image.png"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-type"), "image/png");
  EXPECT_EQ(reply->body, std::string("\x89PNG\r\n\x1a\nfake-image-bytes"));
  reply = request(port(), get("/download/image.png/image"));
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-type"), "image/png");
  reply = request(port(), "HEAD /static/image.png HTTP/1.1\r\nHost: x\r\n\r\n", true);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("content-length"), "24");
  EXPECT_EQ(request(port(), get("/static/sub/file.txt"))->body, "nested\n");
  // ranges and conditional requests
  reply = request(port(), get("/static/image.png", "Range: bytes=1-3\r\n"));
  EXPECT_EQ(reply->status, 206);
  EXPECT_EQ(reply->body, "PNG");
  EXPECT_EQ(reply->header("content-range"), "bytes 1-3/24");
  reply = request(port(), get("/static/image.png", "Range: bytes=-5\r\n"));
  EXPECT_EQ(reply->body, "bytes");
  reply = request(port(), get("/static/image.png", "Range: bytes=20-\r\n"));
  EXPECT_EQ(reply->body, "ytes");
  EXPECT_EQ(request(port(), get("/static/image.png", "Range: bytes=100-\r\n"))->status, 416);
  EXPECT_EQ(request(port(), get("/static/image.png", "Range: bytes=0-1,3-4\r\n"))->status, 200);
  auto full = request(port(), get("/static/image.png"));
  EXPECT_EQ(full->header("accept-ranges"), "bytes");
  reply = request(port(), get("/static/image.png",
                              "If-Modified-Since: " + full->header("last-modified") + "\r\n"));
  EXPECT_EQ(reply->status, 304);
  EXPECT_EQ(reply->body, "");
  // Missing files go through the http_error(404) handler, like upstream's HTTPNotFound.
  reply = request(port(), get("/static/image-404.png"));
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->body, "test 404");
  reply = request(port(), get("/static/sub"));  // directory
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->body, "test 404");
  for (const char* attempt :
       {"/static/../secret.txt", "/static/..%2Fsecret.txt", "/static/%2e%2e/secret.txt",
        "/static/sub/../../secret.txt", "/static/escape.txt", "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd", "/static/sub%5C..%5C..%5Csecret.txt"}) {
    reply = request(port(), get(attempt));
    ASSERT_TRUE(reply) << attempt;
    EXPECT_EQ(reply->status, 404) << attempt;
    EXPECT_EQ(reply->body, "test 404") << attempt;
  }
}

TEST_F(HttpServer, KeepAliveOffByDefault) {
  Connection connection(port());
  connection.send(get("/test"));
  auto reply = connection.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header("connection"), "close");
  EXPECT_FALSE(reply->has_header("keep-alive"));
  EXPECT_TRUE(connection.closed_by_server(2000ms));
}

TEST_F(HttpServer, WebsocketRoundTrip) {
  TestService::websocket_closed = false;
  Connection connection(port());
  connection.send(
      "GET /websocket-data HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nUser-Agent: "
      "ws-test\r\n\r\n");
  auto reply = connection.read_reply();
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 101);
  EXPECT_EQ(reply->header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  connection.ws_send_text("9e2546ef-7fe1-4f94-a3fc-5dc85a771a17");
  auto [opcode, payload] = connection.ws_read();
  EXPECT_EQ(opcode, 1);
  EXPECT_EQ(payload, "echo: 9e2546ef-7fe1-4f94-a3fc-5dc85a771a17");
  EXPECT_EQ(TestService::received, "9e2546ef-7fe1-4f94-a3fc-5dc85a771a17");
  connection.ws_send_text("binary is ignored", 0x2);
  connection.ws_send_text("", 0x8);  // close
  auto [close_opcode, close_payload] = connection.ws_read();
  EXPECT_EQ(close_opcode, 8);
  ::shutdown(connection.fd(),
             SHUT_WR);  // the client ends the TCP connection after the close handshake
  EXPECT_TRUE(wait_until([] { return TestService::websocket_closed.load(); }))
      << "on_close never ran";
  ASSERT_TRUE(wait_for_record([](const tomodachi::test_stubs::CapturedRecord& record) {
    auto state = field(record, "websocket_state");
    auto path = field(record, "request_path");
    return state && state->as_string() == "closed" && path &&
           path->as_string() == "/websocket-data";
  })) << "no closed record";
  // spec §10: open/cancelled/error come from logger tomodachi.http.websocket, closed from
  // the access logger tomodachi.http.response (so it reaches the access-log file too).
  bool open_logged = false;
  bool closed_logged = false;
  for (auto& record : records_of("tomodachi.http.websocket")) {
    auto state = field(record, "websocket_state");
    if (state && state->as_string() == "open") open_logged = true;
    EXPECT_FALSE(state && state->as_string() == "closed")
        << "closed record on the websocket logger";
  }
  for (auto& record : records_of("tomodachi.http.response")) {
    auto state = field(record, "websocket_state");
    if (state && state->as_string() == "closed") {
      closed_logged = true;
      EXPECT_TRUE(field(record, "total_request_time"));
      EXPECT_EQ(field(record, "user_agent")->as_string(), "ws-test");
    }
  }
  EXPECT_TRUE(open_logged);
  EXPECT_TRUE(closed_logged);
  // the handler's logger says it is a websocket handler
  bool typed = false;
  for (auto& record : records_of("tomodachi.http.handler")) {
    if (record.message == "websocket connected")
      typed = field(record, "type")->as_string() == "tomodachi.websocket";
  }
  EXPECT_TRUE(typed);
}

TEST_F(HttpServer, WebsocketSendFromATemporaryHandle) {
  // The task of send_str owns the connection: the handle it came from may be gone before
  // the task first runs (e.g. `spawn(copy.send_str(...))` on a loop copy).
  Connection connection(port());
  connection.send(
      "GET /websocket-temporary HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: "
      "Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  auto reply = connection.read_reply();
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 101);
  connection.ws_send_text("hello");
  auto [opcode, payload] = connection.ws_read();
  EXPECT_EQ(opcode, 1);
  EXPECT_EQ(payload, "from a temporary: hello");
  // Ends with the connection: its `closed` record belongs to this test, not to the next.
  ::shutdown(connection.fd(), SHUT_RDWR);
  EXPECT_TRUE(wait_for_record([](const tomodachi::test_stubs::CapturedRecord& record) {
    auto state = field(record, "websocket_state");
    auto path = field(record, "request_path");
    return state && state->as_string() == "closed" && path &&
           path->as_string() == "/websocket-temporary";
  }));
}

TEST_F(HttpServer, AccessLogRecords) {
  // the connections of earlier tests (a lingering close) have ended and logged
  ASSERT_TRUE(wait_until([] { return http_test::server_connections_closed(port()); }));
  tomodachi::test_stubs::clear_captured();
  request(port(), get("/test", "User-Agent: curl/7.88.1\r\n"));
  request(port(), "POST /unknown HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
  request(port(), get("/quiet"));
  request(port(), "POST /ignore-200 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n200");
  request(port(), "POST /ignore-200 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n201");
  ASSERT_TRUE(wait_for_access_record("/ignore-200", 201));  // the last request's record
  auto records = records_of("tomodachi.http.response");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].message, "");
  EXPECT_EQ(field(records[0], "status_code")->as_int64(), 200);
  EXPECT_EQ(field(records[0], "request_path")->as_string(), "/test");
  EXPECT_EQ(field(records[0], "user_agent")->as_string(), "curl/7.88.1");
  EXPECT_EQ(field(records[0], "response_content_length")->as_int64(), 4);
  EXPECT_TRUE(field(records[0], "handler_elapsed_time"));
  EXPECT_EQ(field(records[1], "status_code")->as_int64(), 404);
  EXPECT_EQ(field(records[1], "response_content_length")->as_int64(), 8);
  EXPECT_EQ(field(records[1], "request_content_length")->as_int64(), 10);
  EXPECT_EQ(field(records[1], "request_content_read_length")->as_int64(), 10);
  EXPECT_TRUE(field(records[1], "handler_elapsed_time"));  // upstream times 404s too
  EXPECT_EQ(field(records[2], "status_code")->as_int64(), 201);
  EXPECT_EQ(field(records[2], "request_path")->as_string(), "/ignore-200");

  tomodachi::test_stubs::clear_captured();
  request(port(), get("/empty"));
  request(port(), "DELETE /test HTTP/1.1\r\nHost: x\r\n\r\n");
  request(port(), get("/static/image.png"));
  ASSERT_TRUE(wait_for_access_record("/static/image.png"));  // the last request's record
  records = records_of("tomodachi.http.response");
  ASSERT_EQ(records.size(), 3u);
  // an empty body is logged with length 0 (aiohttp's content_length of an empty body)
  ASSERT_TRUE(field(records[0], "response_content_length"));
  EXPECT_EQ(field(records[0], "response_content_length")->as_int64(), 0);
  EXPECT_EQ(field(records[1], "status_code")->as_int64(), 405);
  EXPECT_TRUE(field(records[1], "handler_elapsed_time"));
  EXPECT_EQ(field(records[2], "status_code")->as_int64(), 200);
  EXPECT_EQ(field(records[2], "response_content_length")->as_int64(), 24);
  EXPECT_TRUE(field(records[2], "handler_elapsed_time"));
}

TEST_F(HttpServer, AccessLogOfABodyCutShort) {
  tomodachi::test_stubs::clear_captured();
  {
    Connection connection(port());
    connection.send(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nUser-Agent: "
        "cut\r\n\r\n0123456789");
    // the server has read the head and the first 10 bytes of the body
    ASSERT_TRUE(wait_until([] { return server_took_everything_in(port()); }));
  }  // the client goes away before its body is complete
  ASSERT_TRUE(wait_for_record([](const tomodachi::test_stubs::CapturedRecord& record) {
    return record.message == "ignored http request - connection closed before body was sent";
  }));
  const tomodachi::test_stubs::CapturedRecord* found = nullptr;
  auto records = records_of("tomodachi.http.response");
  for (auto& record : records) {
    if (record.message == "ignored http request - connection closed before body was sent")
      found = &record;
  }
  ASSERT_TRUE(found);
  std::vector<std::string> keys;
  for (const auto& f : found->fields) keys.push_back(f.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"status_code", "remote_ip", "request_method",
                                            "request_path", "http_version",
                                            "response_content_length", "request_content_length",
                                            "request_content_read_length", "user_agent"}));
  EXPECT_EQ(field(*found, "status_code")->as_int64(), 499);
  EXPECT_EQ(field(*found, "response_content_length")->as_int64(), 0);
  EXPECT_EQ(field(*found, "request_content_length")->as_int64(), 100);
  EXPECT_EQ(field(*found, "request_content_read_length")->as_int64(), 10);
}

// ---- keep-alive, limits, shutdown: services of their own -------------------------------

class KeepAliveService : public tomodachi::Service {
 public:
  KeepAliveService() : Service("keepalive") {
    options.http.port = 0;
    options.http.keepalive_timeout = 2;
    options.http.max_keepalive_requests = 3;
    http<&KeepAliveService::hello>("GET", "/");
  }
  Task<std::string> hello(Request&) { co_return "hello"; }
};

TEST(HttpKeepAliveServer, HeadersLimitsAndIdleTimeout) {
  Harness<KeepAliveService> harness;
  Connection connection(harness.port());
  for (int i = 1; i <= 3; ++i) {
    connection.send(get("/"));
    auto reply = connection.read_reply();
    ASSERT_TRUE(reply) << i;
    EXPECT_EQ(reply->body, "hello");
    if (i < 3) {
      EXPECT_EQ(reply->header("connection"), "keep-alive");
      EXPECT_EQ(reply->header("keep-alive"), "timeout=2, max=3");
    } else {
      EXPECT_EQ(reply->header("connection"), "close");  // the N-th response closes
    }
  }
  EXPECT_TRUE(connection.closed_by_server(1000ms));

  // pipelined requests on one connection
  Connection pipelined(harness.port());
  pipelined.send(get("/") + get("/"));
  EXPECT_EQ(pipelined.read_reply()->body, "hello");
  EXPECT_EQ(pipelined.read_reply()->body, "hello");

  // HTTP/1.0 without keep-alive closes; an idle connection is closed after the timeout
  auto reply = request(harness.port(), "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(reply->header("connection"), "close");
  Connection idle(harness.port());
  idle.send(get("/"));
  ASSERT_TRUE(idle.read_reply());
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.closed_by_server(4000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1500ms);
}

class SlowService : public tomodachi::Service {
 public:
  SlowService() : Service("slow") {
    options.http.port = 0;
    options.http.header_read_timeout = 1;
    options.http.client_max_size = std::int64_t{2048};
    http<&SlowService::sleepy>("GET", "/sleep");
    http<&SlowService::sleepy>("POST", "/upload");
  }
  Task<std::string> sleepy(Request&) {
    co_await tomodachi::sleep(std::chrono::milliseconds(1000));
    co_return "slept";
  }
};

TEST(HttpProtection, SlowClientsAndBodies) {
  Harness<SlowService> harness;
  Connection slowloris(harness.port());
  slowloris.send("GET /sleep HTTP/1.1\r\nHost: x\r\n");  // never finishes its headers
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(slowloris.closed_by_server(3000ms));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
  // chunked body beyond client_max_size
  Connection big(harness.port());
  big.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string chunk = "400\r\n" + std::string(1024, 'x') + "\r\n";
  try {
    for (int i = 0; i < 4; ++i) big.send(chunk);
  } catch (const std::exception&) {
  }
  auto reply = big.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(request(harness.port(), get("/sleep"))->body, "slept");
}

TEST(HttpShutdown, InFlightRequestsFinishAndTheListenerCloses) {
  Harness<SlowService> harness;
  int port = harness.port();
  const auto in_flight_before = context_int("http_current_tasks");
  std::vector<std::unique_ptr<Connection>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<Connection>(port));
    clients.back()->send(get("/sleep"));
  }
  // all five are in flight (counted from their parsed heads) when the stop begins
  ASSERT_TRUE(
      wait_until([&] { return context_int("http_current_tasks") == in_flight_before + 5; }));
  auto stopping = harness.stop_async(10s);
  for (auto& client : clients) {
    auto reply = client->read_reply(false, 5000ms);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "slept");
    EXPECT_EQ(reply->header("connection"), "close");
  }
  EXPECT_THROW(Connection refused(port), std::runtime_error);
  EXPECT_EQ(stopping.wait_for(5s), std::future_status::ready);
}

TEST(HttpShutdown, StragglersAreCutAtTheDeadline) {
  Harness<SlowService> harness;
  tomodachi::test_stubs::clear_captured();
  const auto in_flight_before = context_int("http_current_tasks");
  Connection client(harness.port());
  client.send(get("/sleep"));
  ASSERT_TRUE(
      wait_until([&] { return context_int("http_current_tasks") == in_flight_before + 1; }));
  harness.stop(300ms);
  bool warned = false;
  for (auto& record : records_of("tomodachi.http")) {
    warned |= record.message == "all requests did not gracefully finish execution";
  }
  EXPECT_TRUE(warned);
  EXPECT_TRUE(client.closed_by_server(2000ms));
}

class BadPatternService : public tomodachi::Service {
 public:
  BadPatternService() : Service("bad") {
    options.http.port = 0;
    http<&BadPatternService::handler>("GET", "/(?P<broken");
  }
  Task<std::string> handler(Request&) { co_return ""; }
};

TEST(HttpStartFailures, BadPatternAndBusyPort) {
  tomodachi::test_stubs::capture();
  BadPatternService bad;
  std::vector<const tomodachi::HandlerSpec*> specs;
  for (const auto& spec : bad.handlers()) specs.push_back(spec.get());
  auto transport = tomodachi::test_stubs::transport_factory("http")(bad, specs);
  boost::asio::io_context io;
  auto setup = boost::asio::co_spawn(io, transport->setup(), boost::asio::use_future);
  io.run();
  try {
    setup.get();
    FAIL() << "expected a start failure";
  } catch (const tomodachi::ArgumentError& error) {
    EXPECT_NE(std::string(error.what()).find("Bad http route pattern '/(?P<broken'"),
              std::string::npos);
  }

  Harness<KeepAliveService> first;
  KeepAliveService second;
  second.options.http.port = first.port();
  second.options.http.reuse_port = false;
  std::vector<const tomodachi::HandlerSpec*> second_specs;
  for (const auto& spec : second.handlers()) second_specs.push_back(spec.get());
  auto second_transport = tomodachi::test_stubs::transport_factory("http")(second, second_specs);
  boost::asio::io_context io2;
  tomodachi::test_stubs::clear_captured();
  auto started = boost::asio::co_spawn(
      io2,
      [&]() -> Task<void> {
        co_await second_transport->setup();
        co_await second_transport->start();
      },
      boost::asio::use_future);
  io2.run();
  EXPECT_THROW(started.get(), tomodachi::HttpException);
  bool warned = false;
  for (auto& record : records_of("tomodachi.http")) {
    if (record.message.rfind("unable to bind service [http] to http://localhost:", 0) == 0) {
      warned = true;
      EXPECT_EQ(field(record, "error_message")->as_string(), "address already in use");
    }
  }
  EXPECT_TRUE(warned);
}

class ReusePortService : public KeepAliveService {
 public:
  ReusePortService() { options.http.reuse_port = true; }
};

TEST(HttpReusePort, TwoServicesShareAPort) {
  Harness<ReusePortService> first;
  Harness<ReusePortService> second(
      [&](ReusePortService& service) { service.options.http.port = first.port(); });
  EXPECT_EQ(first.port(), second.port());
  EXPECT_EQ(request(first.port(), get("/"))->body, "hello");
}

}  // namespace

namespace {

class WsService : public tomodachi::Service {
 public:
  WsService() : Service("ws") {
    options.http.port = 0;
    options.http.websocket_max_message_size = 1024;
    websocket<&WsService::echo>("/ws");
  }
  Task<tomodachi::WebsocketCallbacks> echo(tomodachi::Websocket& websocket, Request&) {
    co_return tomodachi::WebsocketCallbacks{
        .on_receive = [websocket](std::string text) mutable -> Task<void> {
          co_await websocket.send_str(text);
        }};
  }
};

std::unique_ptr<Connection> ws_connect(int port) {
  auto connection = std::make_unique<Connection>(port);
  connection->send(
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  auto reply = connection->read_reply();
  if (!reply || reply->status != 101) throw std::runtime_error("no upgrade");
  return connection;
}

int close_code(const std::string& payload) {
  return payload.size() >= 2 ? (static_cast<unsigned char>(payload[0]) << 8) |
                                   static_cast<unsigned char>(payload[1])
                             : 0;
}

TEST(HttpWebsocket, MessagesAboveTheLimitCloseWith1009) {
  Harness<WsService> harness;
  auto connection = ws_connect(harness.port());
  connection->ws_send_text(std::string(1000, 'a'));
  auto [opcode, payload] = connection->ws_read();
  EXPECT_EQ(opcode, 1);
  EXPECT_EQ(payload.size(), 1000u);
  connection->ws_send_text(std::string(2000, 'b'));
  auto [close_opcode, close_payload] = connection->ws_read();
  EXPECT_EQ(close_opcode, 8);
  EXPECT_EQ(close_code(close_payload), 1009);
}

/// The answer to an upgrade request to /ws with `headers` (the key and version lines).
std::optional<http_test::HttpReply> upgrade_with(int port, const std::string& headers) {
  Connection connection(port);
  connection.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                  headers + "\r\n");
  return connection.read_reply();
}

TEST(HttpWebsocket, HandshakeKeyAndVersionAreChecked) {
  Harness<WsService> harness;
  const std::string version = "Sec-WebSocket-Version: 13\r\n";
  auto status = [&](const std::string& headers) {
    auto reply = upgrade_with(harness.port(), headers);
    return reply ? reply->status : 0;
  };
  EXPECT_EQ(status("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + version), 101);
  // RFC 6455 §4.2.1: the key must be the base64 of 16 bytes
  EXPECT_EQ(status("Sec-WebSocket-Key: not-base64-of-16-bytes!!\r\n" + version), 400);
  EXPECT_EQ(status("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n" + version), 400);
  EXPECT_EQ(status("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=A\r\n" + version), 400);
  EXPECT_EQ(status("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n" + version), 400);
  // exactly one key
  EXPECT_EQ(status("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n" +
                   version),
            400);
  EXPECT_EQ(status("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), 400);  // no version
  // §4.2.2: another version gets 426 naming the one spoken
  auto reply = upgrade_with(harness.port(),
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Version: 8\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 426);
  EXPECT_EQ(reply->header("sec-websocket-version"), "13");
  EXPECT_EQ(reply->header("connection"), "close");
}

TEST(HttpWebsocket, AnInvalidCloseCodeIsAnsweredWith1002) {
  Harness<WsService> harness;
  auto answer_to_close = [&](int code) {
    auto connection = ws_connect(harness.port());
    std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    connection->ws_send_text(payload, 0x8);
    auto [opcode, reply] = connection->ws_read();
    return opcode == 8 ? close_code(reply) : -opcode;
  };
  EXPECT_EQ(answer_to_close(1000), 1000);  // a valid code is echoed
  EXPECT_EQ(answer_to_close(4000), 4000);
  // RFC 6455 §7.4: 0-999, 1004-1006, 1015, 1016-2999 and 5000 and above are not to be sent
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    EXPECT_EQ(answer_to_close(code), 1002) << code;
  }
}

TEST(HttpWebsocket, ShutdownClosesOpenWebsockets) {
  Harness<WsService> harness;
  auto connection = ws_connect(harness.port());
  connection->ws_send_text("ping");
  EXPECT_EQ(connection->ws_read().second, "ping");
  auto stopping = harness.stop_async(5s);
  auto [opcode, payload] = connection->ws_read();
  EXPECT_EQ(opcode, 8);
  EXPECT_EQ(close_code(payload), 1001);
  connection->ws_send_text("", 0x8);  // answer the close handshake
  ::shutdown(connection->fd(), SHUT_WR);
  EXPECT_EQ(stopping.wait_for(5s), std::future_status::ready);
}

}  // namespace

namespace {

class ErrorService : public tomodachi::Service {
 public:
  ErrorService() : Service("errors") {
    options.http.port = 0;
    options.http.content_type = "application/json; charset=utf-8";
    http<&ErrorService::boom>("GET", "/boom");
    http<&ErrorService::teapot>("GET", "/teapot");
    http<&ErrorService::plain>("GET", "/plain");
    http_middleware<&ErrorService::failing_middleware>();
    http_error<&ErrorService::not_found>(404);
    http_error<&ErrorService::server_error>(500);
  }
  Task<Response> boom(Request&) {
    throw std::logic_error("boom");
    co_return "";
  }
  Task<Response> teapot(Request&) {
    throw tomodachi::HttpError(418);
    co_return "";
  }
  Task<Response> plain(Request&) { co_return "{}"; }
  Task<Response> failing_middleware(tomodachi::HttpNext& next, Request& request) {
    if (request.header("X-Fail")) throw std::runtime_error("middleware failed");
    co_return co_await next();
  }
  Task<Response> not_found(Request&) {
    throw std::runtime_error("the 404 handler fails");
    co_return "";
  }
  Task<Response> server_error(Request& request) {
    co_return "custom " + std::to_string(request.status_code().value_or(0));
  }
};

TEST(HttpErrorHandling, FallbacksAndDefaults) {
  Harness<ErrorService> harness;
  auto reply = request(harness.port(), get("/boom"));
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->body, "custom 500");
  EXPECT_EQ(reply->header("content-type"), "application/json; charset=utf-8");  // service default
  reply = request(harness.port(), get("/missing"));  // 404 handler throws → 500 handler
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->body, "custom 500");
  reply = request(harness.port(), get("/teapot"));  // no 418 handler → reason phrase
  EXPECT_EQ(reply->status, 418);
  EXPECT_EQ(reply->body, "I'm a teapot");
  EXPECT_EQ(reply->header("content-type"), "text/plain; charset=utf-8");
  reply = request(harness.port(), get("/plain", "X-Fail: 1\r\n"));  // middleware exceptions too
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(request(harness.port(), get("/plain"))->header("content-type"),
            "application/json; charset=utf-8");
}

}  // namespace

namespace {

class CallableService : public tomodachi::Service {
 public:
  CallableService() : Service("callables") {
    options.http.port = 0;
    http_middleware(
        [](tomodachi::HttpNext& next, Request& request) -> Task<Response> {
          request.context()["outer"] = "yes";
          Response response = co_await next();
          response.header("X-Outer", "1");
          co_return response;
        },
        "outer");
    tomodachi::HttpRouteOptions guarded;
    guarded.guards.push_back(
        [](tomodachi::Service&, Request& request) -> Task<std::optional<Response>> {
          if (!request.query("token")) co_return Response{403, "no token"};
          co_return std::nullopt;
        });
    http(
        "GET", R"(/info/(?P<a>x)?(?P<b>y)?)", "info",
        [](Request& request) -> std::string {
          std::string out = std::string(request.method()) + " " + std::string(request.path()) +
                            " q=" + std::string(request.query_string()) +
                            " a=" + (request.matched("a") ? "1" : "0") +
                            " b=" + (request.matched("b") ? "1" : "0") +
                            " outer=" + std::string(request.context().at("outer").as_string()) +
                            " headers=";
          for (auto [name, value] : request.headers()) out += std::string(name) + ",";
          return out;
        },
        guarded);
  }
};

TEST(HttpCallables, LambdaRoutesGuardsAndMiddlewares) {
  Harness<CallableService> harness;
  auto reply = request(harness.port(), get("/info/y?token=1", "X-Custom: 1\r\n"));
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "GET /info/y q=token=1 a=0 b=1 outer=yes headers=Host,X-Custom,");
  EXPECT_EQ(reply->header("x-outer"), "1");
  reply = request(harness.port(), get("/info/x"));
  EXPECT_EQ(reply->status, 403);
  EXPECT_EQ(reply->body, "no token");
  EXPECT_EQ(reply->header("x-outer"), "1");
}

}  // namespace

// ---- uploads at shutdown, lingering close --------------------------------------------------

namespace {

class UploadService : public tomodachi::Service {
 public:
  UploadService() : Service("upload") {
    options.http.port = 0;
    options.http.client_max_size = std::int64_t{2048};
    http<&UploadService::upload>("POST", "/upload");
    http<&UploadService::sleepy>("GET", "/sleep");
  }
  Task<std::string> upload(Request& request) {
    co_return "got " + std::to_string(request.body().size());
  }
  Task<std::string> sleepy(Request&) {
    co_await tomodachi::sleep(std::chrono::milliseconds(1000));
    co_return "slept";
  }
};

class KeepAliveUploadService : public UploadService {
 public:
  KeepAliveUploadService() { options.http.keepalive_timeout = 5; }
};

/// Starts a 1000-byte upload, sends half, stops the server, waits, sends the rest.
std::optional<http_test::HttpReply> upload_across_a_stop(int port,
                                                         std::function<std::future<void>()> stop) {
  Connection client(port);
  client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
              std::string(500, 'a'));
  EXPECT_TRUE(wait_until([&] { return server_took_everything_in(port); }));
  auto stopping = stop();
  // The behaviour under test: the rest comes after more than upstream's one second before
  // step 4 (a lower bound; a shorter wait would let a server without the step pass).
  std::this_thread::sleep_for(1500ms);
  client.send(std::string(500, 'b'));
  auto reply = client.read_reply(false, 5000ms);
  EXPECT_EQ(stopping.wait_for(5s), std::future_status::ready);
  return reply;
}

TEST(HttpShutdown, AnUploadInProgressIsWaitedForWithKeepAlive) {
  Harness<KeepAliveUploadService> harness;
  auto reply = upload_across_a_stop(harness.port(), [&] { return harness.stop_async(10s); });
  ASSERT_TRUE(reply) << "the upload was cut at the stop";
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "got 1000");
  EXPECT_EQ(reply->header("connection"), "close");
}

TEST(HttpShutdown, AnUploadInProgressGets503WithoutKeepAlive) {
  // spec §9 step 4: without keep-alive, requests that have not reached their handler a
  // second after the stop began get 503 (at once, without the rest of the body; the
  // lingering close takes what the client still sends).
  Harness<UploadService> harness;
  auto reply = upload_across_a_stop(harness.port(), [&] { return harness.stop_async(10s); });
  ASSERT_TRUE(reply) << "the upload was cut at the stop";
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->body, "Service Unavailable");
}

/// A connection whose request head is still arriving when the stop begins; the rest of
/// the head (`rest`) comes after the drain began (a second in, spec §9 step 4).
std::optional<http_test::HttpReply> head_after_the_drain_began(const std::string& rest) {
  Harness<UploadService> harness;
  Connection client(harness.port());
  client.send("POST /upload HTTP/1.1\r\n");
  EXPECT_TRUE(wait_until([&] { return server_took_everything_in(harness.port()); }));
  auto stopping = harness.stop_async(10s);
  // The behaviour under test: the rest of the head arrives after the drain began, more
  // than upstream's one second after the stop (a lower bound, not a hope).
  std::this_thread::sleep_for(1500ms);
  client.send(rest);
  auto reply = client.read_reply(false, 3000ms);  // the body is never sent
  EXPECT_EQ(stopping.wait_for(5s), std::future_status::ready);
  return reply;
}

TEST(HttpShutdown, AHeadAfterTheDrainBeganGets503WithoutItsBody) {
  auto reply = head_after_the_drain_began("Host: x\r\nContent-Length: 1000\r\n\r\n");
  ASSERT_TRUE(reply) << "the body was waited for";
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->header("connection"), "close");
}

TEST(HttpShutdown, NoContinueForAHeadAfterTheDrainBegan) {
  auto reply =
      head_after_the_drain_began("Host: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);  // not 100 first
  EXPECT_EQ(reply->header("connection"), "close");
}

TEST(HttpShutdown, AnUploadInProgressGets503AsSoonAsTheDrainBegins) {
  // Without keep-alive the drain begins a second after the stop: the rest of the body is
  // not waited for (it may be 50 MB).
  Harness<UploadService> harness;
  Connection client(harness.port());
  client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
              std::string(500, 'a'));
  ASSERT_TRUE(wait_until([&] { return server_took_everything_in(harness.port()); }));
  auto stopping = harness.stop_async(10s);
  auto reply = client.read_reply(false, 4000ms);
  ASSERT_TRUE(reply) << "the rest of the body was waited for";
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->header("connection"), "close");
  EXPECT_EQ(stopping.wait_for(5s), std::future_status::ready);
}

TEST(HttpProtection, ContinueOnlyForARequestWhoseBodyWillBeRead) {
  Harness<UploadService> harness;
  auto first_answer = [&](const std::string& head) {
    Connection client(harness.port());
    client.send(head);
    return client.read_reply(false, 3000ms);
  };
  // routed nowhere: 404 at once, without the body, and the connection closes
  auto reply = first_answer(
      "POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->header("connection"), "close");
  // a method the route does not take: 405
  reply = first_answer(
      "POST /sleep HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->header("allow"), "GET,HEAD");
  EXPECT_EQ(reply->header("connection"), "close");
  // declared larger than http.client_max_size: 413
  reply = first_answer(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  // a request that will be read: 100, then the answer
  Connection client(harness.port());
  client.send(
      "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto interim = client.read_reply(true, 3000ms);
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  client.send("hello");
  reply = client.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "got 5");
}

TEST(HttpShutdown, AwaitingKeepAliveConnectionsAndRequests) {
  Harness<KeepAliveUploadService> harness;
  tomodachi::test_stubs::clear_captured();
  const auto in_flight_before = context_int("http_current_tasks");
  Connection busy(harness.port());
  busy.send(get("/sleep"));
  Connection half(harness.port());
  half.send("GET /sleep HTTP/1.1\r\n");  // a request head still arriving
  // the busy request is in flight and the server has read the half head
  ASSERT_TRUE(wait_until([&] {
    return context_int("http_current_tasks") == in_flight_before + 1 &&
           server_took_everything_in(harness.port());
  }));
  auto stopping = harness.stop_async(3s);
  auto reply = busy.read_reply(false, 5000ms);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "slept");
  EXPECT_EQ(stopping.wait_for(5s), std::future_status::ready);
  std::optional<std::int64_t> connection_count;
  std::optional<std::int64_t> request_count;
  for (auto& record : records_of("tomodachi.http")) {
    if (record.message == "awaiting keep-alive connections")
      connection_count = field(record, "connection_count")->as_int64();
    if (record.message == "awaiting requests to complete")
      request_count = field(record, "request_count")->as_int64();
  }
  EXPECT_EQ(connection_count, 2);
  EXPECT_EQ(request_count, 1);
}

TEST(HttpProtection, ErrorAnswersDrainTheRequestBeforeClosing) {
  Harness<UploadService> harness;
  // After a 413 the server half-closes and reads on: the client can finish sending without
  // a reset, and then sees an orderly end of the connection (nginx's lingering close).
  Connection client(harness.port());
  client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n" +
              std::string(10000, 'x'));
  auto reply = client.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(reply->header("connection"), "close");
  // the server half-closed (the client reads its end of the stream, not a reset) ...
  ASSERT_TRUE(wait_until([&] { return peer_half_closed(client.fd()); }));
  EXPECT_NO_THROW(client.send(std::string(16384, 'y')));
  // ... and still reads what the client sends after that
  EXPECT_TRUE(wait_until([&] { return server_took_everything_in(harness.port()); }));
  EXPECT_NO_THROW(client.send(std::string(16384, 'y')));
  EXPECT_TRUE(client.closed_by_server(1000ms));

  // A client that uploads a large body without `Expect: 100-continue` gets its 413.
  Connection uploader(harness.port());
  std::thread sender([&] {
    try {
      uploader.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4194304\r\n\r\n" +
                    std::string(4194304, 'z'));
    } catch (const std::exception&) {
      // the server stops reading after its bounded drain
    }
  });
  reply = uploader.read_reply();
  sender.join();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
}

// ---- websocket liveness -------------------------------------------------------------------

class IdleWsService : public tomodachi::Service {
 public:
  IdleWsService() : Service("idle_ws") {
    options.http.port = 0;
    options.http.websocket_idle_timeout = 2;
    websocket<&IdleWsService::silent>("/ws");
    websocket<&IdleWsService::flood>("/flood");
  }
  Task<tomodachi::WebsocketCallbacks> silent(tomodachi::Websocket&, Request&) {
    co_return tomodachi::WebsocketCallbacks{};
  }
  // Sends 1 MiB messages until a send fails (a client that never reads).
  Task<tomodachi::WebsocketCallbacks> flood(tomodachi::Websocket& websocket, Request&) {
    auto executor = co_await boost::asio::this_coro::executor;
    auto sender = [websocket]() mutable -> Task<void> {
      try {
        for (;;) co_await websocket.send_str(std::string(1 << 20, 'f'));
      } catch (const std::exception&) {
        flood_failed = true;
      }
    };
    boost::asio::co_spawn(executor, std::move(sender), boost::asio::detached);
    co_return tomodachi::WebsocketCallbacks{};
  }
  static inline std::atomic<bool> flood_failed{false};
};

std::unique_ptr<Connection> ws_connect_to(int port, const std::string& path,
                                          int receive_buffer = 0) {
  auto connection = std::make_unique<Connection>(port, receive_buffer);
  connection->send(
      "GET " + path +
      " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  auto reply = connection->read_reply();
  if (!reply || reply->status != 101) throw std::runtime_error("no upgrade");
  return connection;
}

TEST(HttpWebsocket, IdlePeersArePingedThenCut) {
  Harness<IdleWsService> harness;
  auto connection = ws_connect_to(harness.port(), "/ws");
  auto [opcode, payload] = connection->ws_read(3000ms);
  EXPECT_EQ(opcode, 9);  // ping after half the idle timeout
  // no pong, nothing sent: cut after the idle timeout
  EXPECT_TRUE(connection->closed_by_server(5000ms));
}

TEST(HttpWebsocket, APeerThatAnswersPingsStaysConnected) {
  Harness<IdleWsService> harness;
  auto connection = ws_connect_to(harness.port(), "/ws");
  for (int i = 0; i < 3; ++i) {
    auto [opcode, payload] = connection->ws_read(3000ms);
    ASSERT_EQ(opcode, 9);
    connection->ws_send_text(payload, 0xA);  // pong
  }
  EXPECT_FALSE(connection->closed_by_server(200ms));
}

TEST(HttpWebsocket, ASendStuckOnAPeerThatDoesNotReadIsCut) {
  Harness<IdleWsService> harness;
  IdleWsService::flood_failed = false;
  auto connection = ws_connect_to(harness.port(), "/flood", 4096);
  // The client keeps talking (so it is not idle) but never reads.
  for (int i = 0; i < 40 && !IdleWsService::flood_failed; ++i) {
    try {
      connection->ws_send_text("still here");
    } catch (const std::exception&) {
      break;  // the server cut the connection
    }
    // A deliberately slow-talking client: a message every 200 ms keeps it from being idle.
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(IdleWsService::flood_failed);
}

}  // namespace

// ---- execution-context counters, get_http_response_status, websocket error/cancelled ----

namespace {

std::int64_t context_int(const std::string& key) {
  auto context = tomodachi::get_execution_context();
  auto it = context.find(key);
  return it == context.end() ? -1 : it->value().as_int64();
}

/// The value of `key` once it equals `expected` (a request is counted until just after
/// its answer is written), or its value after a second.
std::int64_t settled_context_int(const std::string& key, std::int64_t expected) {
  (void)wait_until([&] { return context_int(key) == expected; }, 1000ms);
  return context_int(key);
}

class ObservedService : public tomodachi::Service {
 public:
  ObservedService() : Service("observed") {
    options.http.port = 0;
    options.http.host = "127.0.0.1";
    http<&ObservedService::held>("GET", "/held");
    http<&ObservedService::connected_status>("GET", "/connected-status");
    http<&ObservedService::disconnected_status>("GET", "/disconnected-status");
    websocket<&ObservedService::throwing_websocket>("/ws-throws");
    websocket<&ObservedService::echo_websocket>("/ws-echo");
  }

  /// Answers only once the test releases it: an in-flight request to observe.
  Task<Response> held(Request&) {
    held_entered = true;
    for (int i = 0; i < 500 && !release_held; ++i)
      co_await tomodachi::sleep(std::chrono::milliseconds(10));
    co_return "held";
  }
  Task<Response> connected_status(Request& request) {
    int shaped = tomodachi::get_http_response_status(Response(201, "x"), &request);
    int failed = tomodachi::get_http_response_status(
        std::make_exception_ptr(tomodachi::HttpError(418)), &request);
    co_return std::to_string(shaped) + " " + std::to_string(failed);
  }
  /// Waits for its client to go away, then records what the helper says about it.
  Task<Response> disconnected_status(Request& request) {
    disconnected_entered = true;
    for (int i = 0; i < 300 && request.is_connected(); ++i)
      co_await tomodachi::sleep(std::chrono::milliseconds(10));
    status_after_disconnect = tomodachi::get_http_response_status(Response(200, "late"), &request);
    error_status_after_disconnect = tomodachi::get_http_response_status(
        std::make_exception_ptr(std::runtime_error("x")), &request);
    co_return "late";
  }
  Task<tomodachi::WebsocketCallbacks> throwing_websocket(tomodachi::Websocket&, Request&) {
    throw std::runtime_error("the websocket handler fails");
    co_return tomodachi::WebsocketCallbacks{};
  }
  Task<tomodachi::WebsocketCallbacks> echo_websocket(tomodachi::Websocket& websocket, Request&) {
    co_return tomodachi::WebsocketCallbacks{
        .on_receive = [websocket](std::string text) mutable -> Task<void> {
          co_await websocket.send_str(text);
        }};
  }

  static inline std::atomic<bool> held_entered{false};
  static inline std::atomic<bool> release_held{false};
  static inline std::atomic<bool> disconnected_entered{false};
  static inline std::atomic<int> status_after_disconnect{0};
  static inline std::atomic<int> error_status_after_disconnect{0};
};

const std::string ws_upgrade_headers =
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nUser-Agent: ws-observer\r\n\r\n";

/// The websocket_state records (any logger) of requests to `path`, in order.
std::vector<tomodachi::test_stubs::CapturedRecord> websocket_records(const std::string& path) {
  std::vector<tomodachi::test_stubs::CapturedRecord> out;
  for (auto& record : tomodachi::test_stubs::captured()) {
    auto state = field(record, "websocket_state");
    auto request_path = field(record, "request_path");
    if (state && request_path && request_path->as_string() == path) out.push_back(record);
  }
  return out;
}

TEST(HttpExecutionContext, CountersFollowServedRequests) {
  Harness<ObservedService> harness;
  auto context = tomodachi::get_execution_context();
  EXPECT_EQ(context.at("http_enabled"), true);
  EXPECT_EQ(context.at("http_server_version").as_string(), tomodachi::http_server_version());
  const auto total_before = context_int("http_total_tasks");
  const auto current_before = context_int("http_current_tasks");
  ASSERT_GE(total_before, 0) << "http_total_tasks missing from the execution context";
  ASSERT_GE(current_before, 0) << "http_current_tasks missing from the execution context";

  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(request(harness.port(), get("/connected-status"))->status, 200);
  EXPECT_EQ(context_int("http_total_tasks"), total_before + 3);
  EXPECT_EQ(settled_context_int("http_current_tasks", current_before), current_before);

  // a request in flight is a current task until it is answered
  ObservedService::release_held = false;
  ObservedService::held_entered = false;
  Connection connection(harness.port());
  connection.send(get("/held"));
  ASSERT_TRUE(wait_until([] { return ObservedService::held_entered.load(); }));
  EXPECT_EQ(context_int("http_current_tasks"), current_before + 1);
  EXPECT_EQ(context_int("http_total_tasks"), total_before + 4);
  ObservedService::release_held = true;
  auto reply = connection.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "held");
  EXPECT_EQ(settled_context_int("http_current_tasks", current_before), current_before);

  // unmatched routes are requests served too
  EXPECT_EQ(request(harness.port(), get("/nowhere"))->status, 404);
  EXPECT_EQ(context_int("http_total_tasks"), total_before + 5);
}

TEST(HttpResponseStatus, ShapesAndErrors) {
  using tomodachi::get_http_response_status;
  EXPECT_EQ(get_http_response_status(Response()), 200);  // None
  EXPECT_EQ(get_http_response_status(Response("text")), 200);
  EXPECT_EQ(get_http_response_status(Response(tomodachi::Bytes{"raw"})), 200);
  EXPECT_EQ(get_http_response_status(Response(201, "created")), 201);
  EXPECT_EQ(get_http_response_status(Response(404, tomodachi::Bytes{"gone"})), 404);
  EXPECT_EQ(get_http_response_status(Response::json(boost::json::value{{"a", 1}})), 200);
  EXPECT_EQ(get_http_response_status(Response::json(boost::json::value{{"a", 1}}, 202)), 202);
  EXPECT_EQ(get_http_response_status(Response(204, "", {{"X-A", "b"}})), 204);

  EXPECT_EQ(get_http_response_status(std::exception_ptr()), 200);
  EXPECT_EQ(get_http_response_status(
                std::make_exception_ptr(tomodachi::HttpError(302, {{"Location", "/"}}))),
            302);
  EXPECT_EQ(get_http_response_status(std::make_exception_ptr(tomodachi::HttpError(503))), 503);
  EXPECT_EQ(get_http_response_status(std::make_exception_ptr(std::runtime_error("boom"))), 500);
  EXPECT_EQ(get_http_response_status(std::make_exception_ptr(42)), 500);
}

TEST(HttpResponseStatus, WithARequestAnd499WhenTheClientLeft) {
  Harness<ObservedService> harness;
  auto reply = request(harness.port(), get("/connected-status"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "201 418");

  ObservedService::status_after_disconnect = 0;
  ObservedService::disconnected_entered = false;
  {
    Connection connection(harness.port());
    connection.send(get("/disconnected-status"));
    ASSERT_TRUE(wait_until([] { return ObservedService::disconnected_entered.load(); }));
  }  // the client goes away without reading its answer
  EXPECT_TRUE(wait_until([] { return ObservedService::status_after_disconnect != 0; }));
  EXPECT_EQ(ObservedService::status_after_disconnect, 499);
  EXPECT_EQ(ObservedService::error_status_after_disconnect, 499);
}

TEST(HttpWebsocketRecords, AHandlerThatThrowsLogsErrorAndClosesWith1011) {
  tomodachi::test_stubs::capture();
  Harness<ObservedService> harness;
  Connection connection(harness.port());
  connection.send("GET /ws-throws?x=1 HTTP/1.1\r\nHost: x\r\n" + ws_upgrade_headers);
  auto reply = connection.read_reply();
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 101);
  auto [opcode, payload] = connection.ws_read();
  EXPECT_EQ(opcode, 8);
  EXPECT_EQ(close_code(payload), 1011);
  ASSERT_TRUE(wait_until([] { return websocket_records("/ws-throws").size() >= 2; }));

  auto records = websocket_records("/ws-throws");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(field(records[0], "websocket_state")->as_string(), "open");
  const auto& error = records[1];
  EXPECT_EQ(error.logger, "tomodachi.http.websocket");
  EXPECT_EQ(field(error, "websocket_state")->as_string(), "error");
  EXPECT_EQ(field(error, "remote_ip")->as_string(), "127.0.0.1");
  EXPECT_EQ(field(error, "request_query_string")->as_string(), "x=1");
  EXPECT_EQ(field(error, "user_agent")->as_string(), "ws-observer");
  EXPECT_EQ(field(error, "websocket_id")->as_string().size(), 36u);
  EXPECT_EQ(field(error, "websocket_id")->as_string(),
            field(records[0], "websocket_id")->as_string());
  EXPECT_EQ(field(error, "total_request_time"), nullptr);
  // the exception itself is logged, naming the handler
  bool exception_logged = false;
  for (auto& record : tomodachi::test_stubs::captured()) {
    auto message = field(record, "exc_message");
    auto handler = field(record, "handler");
    if (message && message->as_string() == "the websocket handler fails" && handler &&
        handler->as_string() == "throwing_websocket") {
      exception_logged = true;
    }
  }
  EXPECT_TRUE(exception_logged);
  // the service keeps serving websockets
  Connection next(harness.port());
  next.send("GET /ws-echo HTTP/1.1\r\nHost: x\r\n" + ws_upgrade_headers);
  ASSERT_EQ(next.read_reply()->status, 101);
  next.ws_send_text("still here");
  EXPECT_EQ(next.ws_read().second, "still here");
}

TEST(HttpWebsocketRecords, ARefusedUpgradeLogsCancelled) {
  tomodachi::test_stubs::capture();
  Harness<ObservedService> harness;
  // a version this server does not speak: refused before the upgrade
  auto reply = request(
      harness.port(),
      "GET /ws-echo?y=2 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n"
      "User-Agent: old-client\r\n\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 426);
  ASSERT_TRUE(wait_until([] { return !websocket_records("/ws-echo").empty(); }));
  auto records = websocket_records("/ws-echo");
  ASSERT_EQ(records.size(), 1u);
  const auto& cancelled = records[0];
  EXPECT_EQ(cancelled.logger, "tomodachi.http.websocket");
  EXPECT_EQ(field(cancelled, "websocket_state")->as_string(), "cancelled");
  EXPECT_EQ(field(cancelled, "request_query_string")->as_string(), "y=2");
  EXPECT_EQ(field(cancelled, "user_agent")->as_string(), "old-client");
  EXPECT_EQ(field(cancelled, "websocket_id")->as_string().size(), 36u);
  EXPECT_EQ(field(cancelled, "total_request_time"), nullptr);
  // no access-log record for it (spec §10: websocket requests have none of those)
  for (auto& record : records_of("tomodachi.http.response")) {
    auto path = field(record, "request_path");
    EXPECT_FALSE(path && path->as_string() == "/ws-echo");
  }
}

TEST(HttpWebsocketRecords, AnUpgradeDuringShutdownLogsCancelled) {
  tomodachi::test_stubs::capture();
  Harness<ObservedService> harness;
  // the upgrade request's head is still arriving when the stop begins
  Connection late(harness.port());
  late.send("GET /ws-echo?z=3 HTTP/1.1\r\nHost: x\r\n");
  const int port = harness.port();
  ASSERT_TRUE(wait_until([&] { return server_took_everything_in(port); }));
  auto stopping = harness.stop_async(5s);
  ASSERT_TRUE(wait_until([&] { return !http_test::listening_on(port); }))
      << "the stop never closed the listener";
  late.send(ws_upgrade_headers);
  auto reply = late.read_reply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(stopping.wait_for(5s), std::future_status::ready);
  auto records = websocket_records("/ws-echo");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].logger, "tomodachi.http.websocket");
  EXPECT_EQ(field(records[0], "websocket_state")->as_string(), "cancelled");
  EXPECT_EQ(field(records[0], "request_query_string")->as_string(), "z=3");
  EXPECT_EQ(field(records[0], "total_request_time"), nullptr);
}

}  // namespace
