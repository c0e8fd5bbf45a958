// The request pipeline without a socket: requests built by hand, run through routing,
// guards, middlewares, handlers and the http_error handlers.

#include "http/pipeline.hpp"
#include "http_specs.hpp"

#include <tomodachi/http.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace {

using tomodachi::Request;
using tomodachi::Response;
using tomodachi::Task;
using tomodachi::http_impl::Pipeline;
using tomodachi::http_impl::PipelineConfig;
using tomodachi::http_impl::RequestMessage;
using tomodachi::http_impl::RouteKind;
using tomodachi::http_impl::WireResponse;
namespace bhttp = boost::beast::http;

class PipelineService : public tomodachi::Service {
 public:
  PipelineService() : Service("pipeline") {
    http<&PipelineService::hello>("GET", "/hello");
    http<&PipelineService::item>({"GET", "PUT"}, R"(/item/(?P<id>[^/]+))");
    http<&PipelineService::boom>("GET", "/boom");
    http<&PipelineService::teapot>("GET", "/teapot");
    http<&PipelineService::guarded, &PipelineService::guard>("GET", "/guarded");
    http<&PipelineService::whoami>("GET", "/whoami");
    websocket<&PipelineService::socket>("/ws");
    http_middleware<&PipelineService::middleware>();
    http_error<&PipelineService::not_found>(404);
  }

  Task<Response> hello(Request&) { co_return "hello"; }
  Task<std::string> item(Request& request) {
    co_return std::string(request.method()) + " " + std::string(request.match("id")) + " " +
        request.query("q").value_or("-") + " " + std::string(request.body());
  }
  Task<Response> boom(Request&) {
    throw std::runtime_error("boom");
    co_return "";
  }
  Task<Response> teapot(Request&) {
    throw tomodachi::HttpError(418, {{"X-Pot", "short"}});
    co_return "";
  }
  Task<std::optional<Response>> guard(Request& request) {
    if (request.header("X-Deny")) co_return Response(403, "denied");
    co_return std::nullopt;
  }
  Task<Response> guarded(Request&) { co_return "allowed"; }
  Task<std::string> whoami(Request& request) {
    co_return std::string(request.remote_ip()) + " " + std::string(request.auth_user()) + " " +
        std::string(request.path());
  }
  Task<tomodachi::WebsocketCallbacks> socket(tomodachi::Websocket&, Request&) {
    co_return tomodachi::WebsocketCallbacks{};
  }
  Task<Response> middleware(tomodachi::HttpNext& next, Request& request) {
    if (request.header("X-Short-Circuit")) co_return "from the middleware";
    Response response = co_await next();
    response.headers.emplace_back("X-Middleware", "passed");
    co_return response;
  }
  Task<Response> not_found(Request& request) {
    co_return Response(404, "no " + std::string(request.path()));
  }
};

/// A pipeline over PipelineService's registrations, and requests run through it.
class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto specs = http_test::http_specs(service_);
    PipelineConfig config;
    config.real_ip_from = tomodachi::http_impl::parse_ip_networks({"10.0.0.1"});
    config.real_ip_header = "X-Forwarded-For";
    pipeline_.setup(specs, std::move(config));
  }

  /// Prepares `message` as if it came from `peer`.
  Request prepare(RequestMessage& message, std::string_view peer = "127.0.0.1") {
    pipeline_.prepare(state_, message, peer);
    return Request(state_);
  }

  WireResponse respond(RequestMessage& message, bool accepting = true) {
    Request request = prepare(message);
    boost::asio::io_context io;
    auto done =
        boost::asio::co_spawn(io, pipeline_.respond(request, accepting), boost::asio::use_future);
    io.run();
    return done.get();
  }

  static RequestMessage make(bhttp::verb method, std::string target, std::string body = {}) {
    RequestMessage message{method, target, 11};
    message.set(bhttp::field::host, "x");
    message.body() = std::move(body);
    message.prepare_payload();
    return message;
  }

  static std::string header(const WireResponse& wire, std::string_view name) {
    const std::string* value = tomodachi::http_impl::find_header(wire.headers, name);
    return value ? *value : std::string();
  }

  PipelineService service_;
  Pipeline pipeline_{service_};
  tomodachi::detail::RequestState state_;
};

TEST_F(PipelineTest, RoutesToTheHandlerThroughTheMiddleware) {
  auto message = make(bhttp::verb::get, "/hello");
  WireResponse wire = respond(message);
  EXPECT_EQ(wire.status, 200);
  EXPECT_EQ(wire.body, "hello");
  EXPECT_EQ(wire.content_type_value(), "text/plain; charset=utf-8");
  EXPECT_EQ(header(wire, "X-Middleware"), "passed");
}

TEST_F(PipelineTest, GroupsQueryAndBodyReachTheHandler) {
  auto message = make(bhttp::verb::put, "/item/4%2011?q=a+b", "payload");
  EXPECT_EQ(respond(message).body, "PUT 4 11 a b payload");
}

TEST_F(PipelineTest, NotFoundAndMethodNotAllowedGoThroughTheErrorHandlers) {
  auto missing = make(bhttp::verb::get, "/missing");
  WireResponse wire = respond(missing);
  EXPECT_EQ(wire.status, 404);
  EXPECT_EQ(wire.body, "no /missing");
  EXPECT_EQ(header(wire, "X-Middleware"), "passed");  // error handlers are wrapped too

  auto wrong_method = make(bhttp::verb::post, "/hello");
  wire = respond(wrong_method);
  EXPECT_EQ(wire.status, 405);
  EXPECT_EQ(wire.body, "Method Not Allowed");
  EXPECT_EQ(header(wire, "Allow"), "GET,HEAD");
}

TEST_F(PipelineTest, ExceptionsAndHttpErrorsBecomeAnswers) {
  auto boom = make(bhttp::verb::get, "/boom");
  WireResponse wire = respond(boom);
  EXPECT_EQ(wire.status, 500);
  EXPECT_EQ(wire.body, "");
  auto teapot = make(bhttp::verb::get, "/teapot");
  wire = respond(teapot);
  EXPECT_EQ(wire.status, 418);
  EXPECT_EQ(wire.body, "I'm a teapot");
  EXPECT_EQ(header(wire, "X-Pot"), "short");
}

TEST_F(PipelineTest, GuardsAndMiddlewaresShortCircuit) {
  auto allowed = make(bhttp::verb::get, "/guarded");
  EXPECT_EQ(respond(allowed).body, "allowed");
  auto denied = make(bhttp::verb::get, "/guarded");
  denied.set("X-Deny", "1");
  WireResponse wire = respond(denied);
  EXPECT_EQ(wire.status, 403);
  EXPECT_EQ(wire.body, "denied");
  auto short_circuit = make(bhttp::verb::get, "/hello");
  short_circuit.set("X-Short-Circuit", "1");
  EXPECT_EQ(respond(short_circuit).body, "from the middleware");
}

TEST_F(PipelineTest, DuringTheDrainAHandlerRouteAnswers503) {
  auto message = make(bhttp::verb::get, "/hello");
  WireResponse wire = respond(message, false);
  EXPECT_EQ(wire.status, 503);
  EXPECT_EQ(wire.body, "Service Unavailable");
}

TEST_F(PipelineTest, PrepareReadsClientAddressUserAndPath) {
  auto message = make(bhttp::verb::get, "http://example.com/who%61mi?x=1");
  message.set(bhttp::field::authorization, "Basic YXV0aHVzZXI6c2VjcmV0YWY=");
  message.set("X-Forwarded-For", "192.168.0.1, 10.0.0.1");
  Request request = prepare(message, "10.0.0.1");
  EXPECT_EQ(request.path(), "/whoami");
  EXPECT_EQ(request.query_string(), "x=1");
  EXPECT_EQ(request.remote_ip(), "192.168.0.1");
  EXPECT_EQ(request.auth_user(), "authuser");
  EXPECT_FALSE(request.is_connected());  // no socket behind it
  ASSERT_NE(state_.route, nullptr);
  EXPECT_EQ(state_.route->kind, RouteKind::handler);
  // an untrusted peer's header is ignored
  request = prepare(message, "127.0.0.2");
  EXPECT_EQ(request.remote_ip(), "127.0.0.2");
}

TEST_F(PipelineTest, WebsocketRoutesAreResolvedForTheSession) {
  auto message = make(bhttp::verb::get, "/ws");
  prepare(message);
  ASSERT_NE(state_.route, nullptr);
  EXPECT_EQ(state_.route->kind, RouteKind::websocket);
}

}  // namespace
