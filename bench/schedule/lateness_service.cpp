// Lateness of a 1 s interval schedule while the same loop serves HTTP requests.
//
// The service runs `every(1s).run_immediately()` and records, for every firing, how late
// it ran after its due time (`invocation_time`). The immediate run marks the start t0, so
// the last firing's offset from t0 + k·1s shows drift independently of the scheduler's
// own bookkeeping. A minimal HTTP/1.1 keep-alive responder on the same loop (port from
// BENCH_HTTP_PORT) takes the load from wrk; each response body is a JSON document built
// per request, so a request costs what a small handler costs. At stop, one log record
// `lateness summary` carries the figures (bench/schedule/run.py reads it).

#include <tomodachi/loop.hpp>
#include <tomodachi/tomodachi.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

class LatenessBench : public tomodachi::Service {
 public:
  LatenessBench() : Service("bench-schedule-lateness") {
    schedule<&LatenessBench::tick>(tomodachi::every(1s).run_immediately());
  }

  tomodachi::Task<void> start_service() override {
    const char* port = std::getenv("BENCH_HTTP_PORT");
    acceptor_.emplace(tomodachi::get_executor(),
                      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                              static_cast<unsigned short>(port ? std::atoi(port) : 0)));
    logger().info("bench http listening", {{"port", acceptor_->local_endpoint().port()}});
    asio::co_spawn(tomodachi::get_executor(), accept_loop(), asio::detached);
    co_return;
  }

  tomodachi::Task<void> stop_service() override {
    boost::system::error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
    log_summary();
    co_return;
  }

 private:
  tomodachi::Task<void> tick(const tomodachi::ScheduleInvocation& invocation) {
    const auto now = Clock::now();
    if (!first_firing_) {
      first_firing_ = now;  // the immediate run: t0
    } else {
      lateness_.push_back(std::chrono::duration<double, std::milli>(now - invocation.invocation_time).count());
      last_firing_ = now;
    }
    co_return;
  }

  tomodachi::Task<void> accept_loop() {
    for (;;) {
      boost::system::error_code error;
      asio::ip::tcp::socket socket(tomodachi::get_executor());
      co_await acceptor_->async_accept(socket, asio::redirect_error(asio::use_awaitable, error));
      if (error) co_return;
      asio::co_spawn(tomodachi::get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  tomodachi::Task<void> serve(asio::ip::tcp::socket socket) {
    asio::streambuf request;
    for (;;) {
      boost::system::error_code error;
      const std::size_t length =
          co_await asio::async_read_until(socket, request, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, error));
      if (error) co_return;
      request.consume(length);
      ++requests_;
      const std::string body = tomodachi::json::dumps(boost::json::object{
          {"status", "ok"}, {"requests", requests_}, {"firings", lateness_.size()}, {"service", name()}});
      const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\n\r\n" + body;
      co_await asio::async_write(socket, asio::buffer(response), asio::redirect_error(asio::use_awaitable, error));
      if (error) co_return;
    }
  }

  void log_summary() {
    std::vector<double> sorted = lateness_;
    std::sort(sorted.begin(), sorted.end());
    auto percentile = [&sorted](double p) {
      if (sorted.empty()) return 0.0;
      const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
      return sorted[std::min(index, sorted.size() - 1)];
    };
    double last_offset_ms = 0;
    if (first_firing_ && last_firing_) {
      const auto expected = *first_firing_ + std::chrono::seconds(static_cast<long>(lateness_.size()));
      last_offset_ms = std::chrono::duration<double, std::milli>(*last_firing_ - expected).count();
    }
    boost::json::array worst;
    for (auto it = sorted.rbegin(); it != sorted.rend() && worst.size() < 5; ++it) worst.push_back(*it);
    logger().info("lateness summary", {{"firings", lateness_.size()},
                                       {"worst_ms", std::move(worst)},
                                       {"median_ms", percentile(0.5)},
                                       {"p99_ms", percentile(0.99)},
                                       {"max_ms", sorted.empty() ? 0.0 : sorted.back()},
                                       {"last_firing_offset_ms", last_offset_ms},
                                       {"http_requests", requests_}});
  }

  std::optional<asio::ip::tcp::acceptor> acceptor_;
  std::vector<double> lateness_;
  std::optional<Clock::time_point> first_firing_;
  std::optional<Clock::time_point> last_firing_;
  std::int64_t requests_ = 0;
};

TOMODACHI_SERVICE(LatenessBench);
