// Lateness of a 1 s interval schedule while the same loop serves HTTP requests.
//
// The service runs `every(1s).run_immediately()` and records, for every firing, how late
// it ran after its due time (`invocation_time`). Drift is the last firing's offset from
// start + k·1s, with two references for the start: the immediate run's `invocation_time`
// (the schedule's start, which the k-th due time is defined from; the bar applies to this
// one), and the wall-clock time the immediate run actually began (independent of the
// scheduler's bookkeeping, but biased early by that run's own lateness). An HTTP route of the same
// service (keep-alive, port from BENCH_HTTP_PORT) takes the load from wrk; each response body is a
// JSON document built per request, so a request costs what a small handler costs. At stop, one log
// record `lateness summary` carries the figures (bench/schedule/run.py reads it).

#include <tomodachi/tomodachi.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

class LatenessBench : public tomodachi::Service {
 public:
  LatenessBench() : Service("bench-schedule-lateness") {
    const char* port = std::getenv("BENCH_HTTP_PORT");
    options.http.port = port ? std::atoi(port) : 0;
    options.http.host = "127.0.0.1";
    options.http.keepalive_timeout = 75;
    options.http.access_log = false;
    schedule<&LatenessBench::tick>(tomodachi::every(1s).run_immediately());
    http<&LatenessBench::status>("GET", R"(/.*)");
  }

  tomodachi::Task<void> started_service() override {
    logger().info("bench http listening", {{"port", tomodachi::http_port(*this).value_or(0)}});
    co_return;
  }

  tomodachi::Task<void> stop_service() override {
    log_summary();
    co_return;
  }

 private:
  tomodachi::Task<void> tick(const tomodachi::ScheduleInvocation& invocation) {
    const auto now = Clock::now();
    if (!first_firing_) {
      first_firing_ = now;  // the immediate run
      start_ = invocation.invocation_time;
    } else {
      lateness_.push_back(
          std::chrono::duration<double, std::milli>(now - invocation.invocation_time).count());
      last_firing_ = now;
    }
    co_return;
  }

  // Each response is a small JSON document built per request, like a real handler.
  tomodachi::Task<tomodachi::Response> status(tomodachi::Request&) {
    ++requests_;
    co_return tomodachi::Response::json(boost::json::object{{"status", "ok"},
                                                            {"requests", requests_},
                                                            {"firings", lateness_.size()},
                                                            {"service", name()}});
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
    double last_offset_from_first_run_ms = 0;
    if (first_firing_ && last_firing_) {
      const auto k = std::chrono::seconds(static_cast<long>(lateness_.size()));
      last_offset_ms =
          std::chrono::duration<double, std::milli>(*last_firing_ - (*start_ + k)).count();
      last_offset_from_first_run_ms =
          std::chrono::duration<double, std::milli>(*last_firing_ - (*first_firing_ + k)).count();
    }
    boost::json::array worst;
    for (auto it = sorted.rbegin(); it != sorted.rend() && worst.size() < 5; ++it)
      worst.push_back(*it);
    logger().info("lateness summary",
                  {{"firings", lateness_.size()},
                   {"worst_ms", std::move(worst)},
                   {"median_ms", percentile(0.5)},
                   {"p99_ms", percentile(0.99)},
                   {"max_ms", sorted.empty() ? 0.0 : sorted.back()},
                   {"last_firing_offset_ms", last_offset_ms},
                   {"last_firing_offset_from_first_run_ms", last_offset_from_first_run_ms},
                   {"first_run_lateness_ms", first_run_lateness_ms()},
                   {"http_requests", requests_}});
  }

  double first_run_lateness_ms() const {
    if (!first_firing_ || !start_) return 0.0;
    return std::chrono::duration<double, std::milli>(*first_firing_ - *start_).count();
  }

  std::vector<double> lateness_;
  std::optional<Clock::time_point> start_;  // the immediate run's invocation_time
  std::optional<Clock::time_point> first_firing_;
  std::optional<Clock::time_point> last_firing_;
  std::int64_t requests_ = 0;
};

TOMODACHI_SERVICE(LatenessBench);
