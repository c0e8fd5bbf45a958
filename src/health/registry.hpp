#pragma once
// What the health endpoints read: the state the loop and the transports publish (the loop's
// heartbeat, start-up, draining, one entry per readiness check). Thread-safe: the loop and
// the transports' threads write, the management thread and the HTTP server read. Nothing
// here calls into the loop.

#include <tomodachi/options.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tomodachi::detail {

/// One readiness check (what a ReadinessReport writes).
struct ReadinessEntry {
  using Clock = std::chrono::steady_clock;
  std::string name;
  std::mutex mutex;
  bool ok = false;        ///< without a window: passes
  bool windowed = false;  ///< passes only between `from` and `until`
  Clock::time_point from, until;
  std::string reason;  ///< failing: why (or before `from`)
  std::string after;   ///< windowed: why, after `until`
};

}  // namespace tomodachi::detail

namespace tomodachi::health {

using Clock = std::chrono::steady_clock;

struct CheckResult {
  std::string name;
  bool ok = true;
  std::string reason;  ///< passing: a short note ("ok" when empty)
};

enum class Probe { livez, readyz, startupz };

class Registry {
 public:
  /// The process's registry; never destroyed (the management thread outlives main's statics).
  static Registry& instance();

  // -- written by the loop --------------------------------------------------------------
  /// A new run of the services: `containers` service files are starting.
  void begin_run(std::size_t containers);
  /// The health options in effect (the first service with health.enabled).
  void configure(const Options::Health& health);
  bool configured() const;
  Options::Health options() const;
  void stamp_heartbeat() noexcept;
  /// One service file's services all started (start hooks, transports, topology).
  void container_started();
  /// Readiness fails from now on; the first call records when.
  void begin_drain();
  bool draining() const noexcept { return draining_.load(); }
  Clock::time_point drain_started() const;

  // -- readiness entries (any thread) ---------------------------------------------------
  std::shared_ptr<detail::ReadinessEntry> add(std::string name, std::string reason);
  void remove(const detail::ReadinessEntry* entry) noexcept;

  // -- read by the endpoints (any thread) -----------------------------------------------
  std::vector<CheckResult> evaluate(Probe probe, Clock::time_point now) const;

 private:
  Registry() = default;
  CheckResult loop_check(Clock::time_point now) const;
  CheckResult startup_check() const;

  std::atomic<Clock::rep> heartbeat_{0};
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> containers_pending_{1};
  mutable std::mutex mutex_;  // guards the members below
  bool configured_ = false;
  Options::Health options_;
  Clock::time_point drain_started_{};
  std::vector<std::shared_ptr<detail::ReadinessEntry>> entries_;
};

/// All checks passed.
bool passed(const std::vector<CheckResult>& results);

}  // namespace tomodachi::health
