#pragma once
// The Prometheus scrape endpoint of upstream's `tomodachi_prometheus` meter provider, on
// the service's own event loop (Beast, no thread): every path answers with the metrics as
// prometheus_client's WSGI app does (`/favicon.ico` empty), GET and HEAD, OPTIONS with
// `Allow`, other methods 405. Text format 0.0.4 unless `Accept` asks for
// application/openmetrics-text; gzip when `Accept-Encoding` has it; `?name[]=` restricts.
// Requests are bounded (8 KiB of headers, no body beyond 8 KiB), idle keep-alive
// connections are closed after a timeout, at most 64 connections at once.

#include <tomodachi/task.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace tomodachi::telemetry {

/// What one scrape asks for.
struct ScrapeRequest {
  bool openmetrics = false;     ///< `Accept` has application/openmetrics-text
  std::set<std::string> names;  ///< `name[]` parameters (empty: everything)
};

class PrometheusServer {
 public:
  /// Renders the exposition for one scrape (called on the loop).
  using Render = std::function<std::string(const ScrapeRequest&)>;

  PrometheusServer(boost::asio::any_io_executor executor, Render render,
                   std::chrono::milliseconds idle_timeout = std::chrono::seconds(60));
  ~PrometheusServer();
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  /// Binds every address `host` resolves to (`localhost`: 127.0.0.1 and ::1) on `port`
  /// and starts accepting. An address family the machine lacks is skipped while another
  /// address binds; any other failure closes what was bound and throws
  /// boost::system::system_error.
  void listen(const std::string& host, std::uint16_t port);

  /// Closes the listeners and every connection; pending scrapes end.
  void stop();

  /// The bound endpoints (empty before listen() and after stop()).
  std::vector<boost::asio::ip::tcp::endpoint> endpoints() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

/// The response to one request, as prometheus_client's WSGI app answers it (exposed for
/// the unit tests): status, headers and body (empty for HEAD, with the GET's length).
struct ScrapeResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};
ScrapeResponse answer_scrape(std::string_view method, std::string_view target,
                             std::string_view accept, std::string_view accept_encoding,
                             const PrometheusServer::Render& render);

}  // namespace tomodachi::telemetry
