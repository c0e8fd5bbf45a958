#include "telemetry/otlp_http_exporter.hpp"

#include <tomodachi/error.hpp>
#include <tomodachi/logging.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <zlib.h>

#include <ctime>

namespace tomodachi::telemetry {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

Endpoint parse_endpoint(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.rfind(scheme, 0) != 0) throw ConfigError("OTLP endpoint must be an http:// URL: " + url);
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Endpoint endpoint;
  endpoint.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) throw ConfigError("bad OTLP endpoint: " + url);
    endpoint.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      endpoint.port = authority.substr(close + 2);
  } else {
    auto colon = authority.rfind(':');
    endpoint.host = authority.substr(0, colon);
    if (colon != std::string::npos) endpoint.port = authority.substr(colon + 1);
  }
  if (endpoint.port.empty()) endpoint.port = "80";
  if (endpoint.host.empty()) throw ConfigError("bad OTLP endpoint (no host): " + url);
  return endpoint;
}

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos && value.size() < 10) {
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  std::tm tm{};
  std::string text(value);
  if (strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return std::nullopt;
  auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
  return delay.count() > 0 ? delay : std::chrono::milliseconds(0);
}

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw Error("deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw Error("gzip failed");
  return out;
}

struct OtlpHttpExporter::Impl {
  Impl(asio::any_io_executor ex, OtlpConfig c, Signal s)
      : executor(std::move(ex)),
        config(std::move(c)),
        signal(s),
        endpoint(parse_endpoint(config.endpoint)) {}

  asio::any_io_executor executor;
  OtlpConfig config;
  Signal signal;
  Endpoint endpoint;
  std::optional<beast::tcp_stream> stream;
  bool failing = false;
  std::uint64_t failures = 0;
  Logger logger{"tomodachi.opentelemetry"};

  struct Outcome {
    int status = 0;  ///< 0: no response (connection error)
    std::string retry_after;
    std::string error;
  };

  Task<Outcome> attempt(const http::request<http::string_body>& request,
                        std::chrono::steady_clock::duration budget) {
    Outcome outcome;
    beast::error_code ec;
    if (!stream) {
      tcp::resolver resolver(executor);
      auto results = co_await resolver.async_resolve(endpoint.host, endpoint.port,
                                                     asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        outcome.error = "resolve: " + ec.message();
        co_return outcome;
      }
      stream.emplace(executor);
      stream->expires_after(budget);
      co_await stream->async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        stream.reset();
        outcome.error = "connect: " + ec.message();
        co_return outcome;
      }
    }
    stream->expires_after(budget);
    co_await http::async_write(*stream, request, asio::redirect_error(asio::use_awaitable, ec));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    if (!ec)
      co_await http::async_read(*stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      stream.reset();
      outcome.error = ec.message();
      co_return outcome;
    }
    auto& response = parser.get();
    outcome.status = static_cast<int>(response.result_int());
    outcome.retry_after = std::string(response[http::field::retry_after]);
    if (!response.keep_alive()) stream.reset();
    co_return outcome;
  }

  http::request<http::string_body> build(std::string body) const {
    http::request<http::string_body> request{http::verb::post, endpoint.target, 11};
    request.set(http::field::host,
                endpoint.port == "80" ? endpoint.host : endpoint.host + ":" + endpoint.port);
    request.set(http::field::user_agent, "tomodachi-otlp-exporter");
    request.set(http::field::content_type, config.protocol == Protocol::http_json
                                               ? "application/json"
                                               : "application/x-protobuf");
    for (const auto& [key, value] : config.headers) request.set(key, value);
    if (config.gzip) {
      request.set(http::field::content_encoding, "gzip");
      body = gzip_compress(body);
    }
    request.body() = std::move(body);
    request.keep_alive(true);
    request.prepare_payload();  // Content-Length
    return request;
  }

  void report(bool ok, const std::string& why) {
    if (ok) {
      if (failing)
        logger.info("opentelemetry export recovered", {{"signal", std::string(to_string(signal))}});
      failing = false;
      return;
    }
    ++failures;
    if (!failing) {
      logger.warning("opentelemetry export failed", {{"signal", std::string(to_string(signal))},
                                                     {"endpoint", config.endpoint},
                                                     {"error", why}});
    }
    failing = true;
  }
};

OtlpHttpExporter::OtlpHttpExporter(asio::any_io_executor executor, OtlpConfig config, Signal signal)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config), signal)) {}
OtlpHttpExporter::~OtlpHttpExporter() = default;

std::uint64_t OtlpHttpExporter::failed_exports() const noexcept { return impl_->failures; }

Task<bool> OtlpHttpExporter::post(std::string body,
                                  std::chrono::steady_clock::time_point deadline) {
  auto impl = impl_;  // keeps the connection alive across suspensions
  const auto request = impl->build(std::move(body));
  std::chrono::milliseconds backoff(500);
  std::string last_error;
  while (true) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    auto budget =
        std::min<std::chrono::steady_clock::duration>(impl->config.timeout, deadline - now);
    Impl::Outcome outcome = co_await impl->attempt(request, budget);
    if (outcome.status >= 200 && outcome.status < 300) {
      impl->report(true, {});
      co_return true;
    }
    const bool retryable = outcome.status == 0 || outcome.status == 429 || outcome.status == 502 ||
                           outcome.status == 503 || outcome.status == 504;
    last_error = outcome.status != 0 ? "HTTP " + std::to_string(outcome.status) : outcome.error;
    if (!retryable) break;
    std::chrono::milliseconds delay = backoff;
    if (auto after = parse_retry_after(outcome.retry_after, std::chrono::system_clock::now()))
      delay = *after;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
    if (std::chrono::steady_clock::now() + delay >= deadline) break;
    asio::steady_timer timer(impl->executor, delay);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  impl->report(false, last_error.empty() ? "deadline passed" : last_error);
  co_return false;
}

}  // namespace tomodachi::telemetry
