#pragma once
/// @file
/// For transport implementers: what a transport tells the health endpoints
/// (docs/operations.md). A `ReadinessReport` is one named readiness check (one consumer, one
/// receive loop, one listener) that the transport keeps current from any thread; readyz passes
/// only while every report passes. An HTTP server that serves the health paths itself (when
/// `health.port` is unset) answers them with `health_answer`.

#include <tomodachi/options.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tomodachi {

namespace detail {
struct ReadinessEntry;
}

/// One readiness check of the process, registered while the object lives (move-only;
/// a default-constructed report registers nothing). Every member is thread-safe.
class ReadinessReport {
 public:
  using Clock = std::chrono::steady_clock;

  ReadinessReport() = default;
  /// Registers check `name` (e.g. `amqp:<queue>`), failing with `reason` until reported.
  explicit ReadinessReport(std::string name, std::string reason = "not reported yet");
  ReadinessReport(ReadinessReport&&) noexcept;
  ReadinessReport& operator=(ReadinessReport&&) noexcept;
  ~ReadinessReport();

  /// Passes until reported otherwise.
  void ok();
  /// Passes from `from` until `until`; before it fails with `before`, after it with `after`.
  void ok_between(Clock::time_point from, Clock::time_point until, std::string before,
                  std::string after);
  /// Fails with `reason` (shown by readyz) until reported otherwise.
  void failing(std::string reason);

  explicit operator bool() const noexcept { return entry_ != nullptr; }

 private:
  std::shared_ptr<detail::ReadinessEntry> entry_;
};

/// The answer to one health request.
struct HealthAnswer {
  int status = 200;
  std::string_view content_type;  ///< a constant
  std::string body;
};

/// The answer to `method target` when `health` is enabled, served by the service's HTTP
/// server (no `health.port`), `method` is GET or HEAD and `path` is
/// `<health.path_prefix>livez|readyz|startupz`; else nullopt (the request is routed as usual).
/// `query` is the raw query string (`verbose` gives the per-check text view).
std::optional<HealthAnswer> health_answer(const Options::Health& health, std::string_view method,
                                          std::string_view path, std::string_view query);

}  // namespace tomodachi
