// The Prometheus scrape endpoint on the service loop (see prometheus_server.hpp).
#include "telemetry/prometheus_server.hpp"

#include "telemetry/otlp_http_exporter.hpp"  // gzip_compress

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <list>

namespace tomodachi::telemetry {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t max_connections = 64;
constexpr std::uint32_t max_header_bytes = 8 * 1024;
constexpr std::uint64_t max_body_bytes = 8 * 1024;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// prometheus_client's choose_encoder / gzip_accepted: one comma-separated item whose media
// type (before ';', stripped) matches.
bool accepts(std::string_view header, std::string_view wanted, bool case_insensitive) {
  std::size_t start = 0;
  while (start <= header.size()) {
    auto comma = header.find(',', start);
    auto item = header.substr(start, comma == std::string_view::npos ? header.npos : comma - start);
    std::string type = trim(item.substr(0, item.find(';')));
    if (case_insensitive) type = lower(type);
    if (type == wanted) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

std::string form_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// parse_qs(query)['name[]'] (blank values dropped, as parse_qs does).
std::set<std::string> name_params(std::string_view query) {
  std::set<std::string> names;
  std::size_t start = 0;
  while (start < query.size()) {
    auto amp = query.find('&', start);
    auto item = query.substr(start, amp == std::string_view::npos ? query.npos : amp - start);
    auto eq = item.find('=');
    if (eq != std::string_view::npos && form_decode(item.substr(0, eq)) == "name[]") {
      std::string value = form_decode(item.substr(eq + 1));
      if (!value.empty()) names.insert(std::move(value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return names;
}

}  // namespace

ScrapeResponse answer_scrape(std::string_view method, std::string_view target,
                             std::string_view accept, std::string_view accept_encoding,
                             const PrometheusServer::Render& render) {
  ScrapeResponse response;
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (method == "OPTIONS") {
    response.headers.emplace_back("Allow", "OPTIONS,GET,HEAD");
    return response;
  }
  if (method != "GET" && method != "HEAD") {
    response.status = 405;
    response.headers.emplace_back("Allow", "OPTIONS,GET,HEAD");
    response.body =
        "# HTTP 405 Method Not Allowed: " + std::string(method) + "; use OPTIONS or GET\n";
    return response;
  }
  if (path == "/favicon.ico") return response;  // an empty answer for browsers
  ScrapeRequest request;
  request.openmetrics = accepts(accept, "application/openmetrics-text", false);
  request.names = name_params(query);
  response.body = render(request);
  response.headers.emplace_back("Content-Type",
                                request.openmetrics
                                    ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                    : "text/plain; version=0.0.4; charset=utf-8");
  if (accepts(accept_encoding, "gzip", true)) {
    response.body = gzip_compress(response.body);
    response.headers.emplace_back("Content-Encoding", "gzip");
  }
  return response;
}

struct PrometheusServer::State : std::enable_shared_from_this<PrometheusServer::State> {
  asio::any_io_executor executor;
  Render render;
  std::chrono::milliseconds idle_timeout;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::list<beast::tcp_stream*> connections;
  bool stopped = false;

  Task<void> accept_loop(tcp::acceptor& acceptor) {
    auto self = shared_from_this();
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (stopped || ec == asio::error::operation_aborted) co_return;
      if (ec) {  // e.g. EMFILE: retry a little later instead of spinning
        asio::steady_timer pause(executor, std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      if (connections.size() >= max_connections) continue;  // the socket closes here
      asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
    }
  }

  Task<void> serve(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    auto registered = connections.insert(connections.end(), &stream);
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(max_header_bytes);
      parser.body_limit(max_body_bytes);
      stream.expires_after(idle_timeout);
      boost::system::error_code ec;
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec || stopped) break;
      const auto& request = parser.get();
      std::string method(request.method_string());
      ScrapeResponse answer;
      try {
        answer = answer_scrape(method, request.target(), request[http::field::accept],
                               request[http::field::accept_encoding], render);
      } catch (const std::exception&) {
        answer =
            ScrapeResponse{500, {{"Content-Type", "text/plain"}}, "collecting metrics failed\n"};
      }
      http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                                 request.version()};
      for (const auto& [name, value] : answer.headers) response.set(name, value);
      const std::size_t length = answer.body.size();
      if (method != "HEAD") response.body() = std::move(answer.body);
      response.content_length(length);  // HEAD: the length a GET would have
      response.keep_alive(request.keep_alive());
      http::response_serializer<http::string_body> serializer(response);
      if (method == "HEAD") serializer.split(true);
      stream.expires_after(idle_timeout);
      if (method == "HEAD") {
        co_await http::async_write_header(stream, serializer,
                                          asio::redirect_error(asio::use_awaitable, ec));
      } else {
        co_await http::async_write(stream, serializer,
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec || stopped || !response.keep_alive()) break;
    }
    connections.erase(registered);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
  }
};

PrometheusServer::PrometheusServer(asio::any_io_executor executor, Render render,
                                   std::chrono::milliseconds idle_timeout)
    : state_(std::make_shared<State>()) {
  state_->executor = std::move(executor);
  state_->render = std::move(render);
  state_->idle_timeout = idle_timeout;
}

PrometheusServer::~PrometheusServer() { stop(); }

void PrometheusServer::listen(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  std::vector<tcp::endpoint> targets;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    targets.emplace_back(address, port);
  } else {
    tcp::resolver resolver(state_->executor);
    auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
    if (ec) throw boost::system::system_error(ec);
    for (const auto& entry : results) {
      if (std::find(targets.begin(), targets.end(), entry.endpoint()) == targets.end())
        targets.push_back(entry.endpoint());
    }
  }
  std::vector<std::unique_ptr<tcp::acceptor>> bound;
  boost::system::error_code first_error;
  for (const auto& endpoint : targets) {
    auto acceptor = std::make_unique<tcp::acceptor>(state_->executor);
    boost::system::error_code e;
    acceptor->open(endpoint.protocol(), e);
    if (!e) acceptor->set_option(asio::socket_base::reuse_address(true), e);
    // Beside an IPv4 address (`localhost`), an IPv6 one must not claim the IPv4 port too;
    // alone (`::`) it keeps the system's dual-stack default, as Python's socket does.
    if (!e && endpoint.protocol() == tcp::v6() && targets.size() > 1)
      acceptor->set_option(asio::ip::v6_only(true), e);
    if (!e) acceptor->bind(endpoint, e);
    if (!e) acceptor->listen(asio::socket_base::max_listen_connections, e);
    if (!e) {
      bound.push_back(std::move(acceptor));
      continue;
    }
    // An address the machine lacks (no IPv6 loopback) is skipped; anything else fails.
    if (e == asio::error::address_family_not_supported || e.value() == EADDRNOTAVAIL) {
      if (!first_error) first_error = e;
      continue;
    }
    throw boost::system::system_error(e);
  }
  if (bound.empty()) {
    throw boost::system::system_error(first_error ? first_error : asio::error::host_not_found);
  }
  state_->stopped = false;
  for (auto& acceptor : bound) {
    tcp::acceptor& ref = *acceptor;
    state_->acceptors.push_back(std::move(acceptor));
    asio::co_spawn(state_->executor, state_->accept_loop(ref), asio::detached);
  }
}

void PrometheusServer::stop() {
  auto& state = *state_;
  state.stopped = true;
  boost::system::error_code ignored;
  for (auto& acceptor : state.acceptors) acceptor->close(ignored);
  for (auto* stream : state.connections) stream->socket().close(ignored);
}

std::vector<tcp::endpoint> PrometheusServer::endpoints() const {
  std::vector<tcp::endpoint> out;
  boost::system::error_code ec;
  for (const auto& acceptor : state_->acceptors) {
    if (acceptor->is_open()) out.push_back(acceptor->local_endpoint(ec));
  }
  return out;
}

}  // namespace tomodachi::telemetry
