// The health registry: what the loop and the transports publish, evaluated per probe.
#include "health/registry.hpp"

#include <tomodachi/transport/health.hpp>

#include <algorithm>
#include <cstdio>

namespace tomodachi::health {

namespace {

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f s", seconds);
  return buffer;
}

CheckResult evaluate_entry(detail::ReadinessEntry& entry, Clock::time_point now) {
  std::lock_guard lock(entry.mutex);
  if (!entry.windowed) return CheckResult{entry.name, entry.ok, entry.ok ? "" : entry.reason};
  if (now < entry.from) return CheckResult{entry.name, false, entry.reason};
  if (now >= entry.until) return CheckResult{entry.name, false, entry.after};
  return CheckResult{entry.name, true, ""};
}

}  // namespace

Registry& Registry::instance() {
  static Registry* registry = new Registry();  // intentionally never destroyed
  return *registry;
}

void Registry::begin_run(std::size_t containers) {
  draining_.store(false);
  containers_pending_.store(std::max<std::size_t>(containers, 1));
  std::lock_guard lock(mutex_);
  configured_ = false;
  drain_started_ = {};
}

void Registry::configure(const Options::Health& health) {
  stamp_heartbeat();
  std::lock_guard lock(mutex_);
  options_ = health;
  configured_ = true;
}

bool Registry::configured() const {
  std::lock_guard lock(mutex_);
  return configured_;
}

Options::Health Registry::options() const {
  std::lock_guard lock(mutex_);
  return options_;
}

void Registry::stamp_heartbeat() noexcept {
  heartbeat_.store(Clock::now().time_since_epoch().count());
}

void Registry::container_started() {
  std::size_t pending = containers_pending_.load();
  while (pending > 0 && !containers_pending_.compare_exchange_weak(pending, pending - 1)) {
  }
}

void Registry::begin_drain() {
  if (draining_.exchange(true)) return;
  std::lock_guard lock(mutex_);
  drain_started_ = Clock::now();
}

Clock::time_point Registry::drain_started() const {
  std::lock_guard lock(mutex_);
  return drain_started_;
}

std::shared_ptr<detail::ReadinessEntry> Registry::add(std::string name, std::string reason) {
  auto entry = std::make_shared<detail::ReadinessEntry>();
  entry->name = std::move(name);
  entry->reason = std::move(reason);
  std::lock_guard lock(mutex_);
  entries_.push_back(entry);
  return entry;
}

void Registry::remove(const detail::ReadinessEntry* entry) noexcept {
  std::lock_guard lock(mutex_);
  std::erase_if(entries_, [entry](const auto& e) { return e.get() == entry; });
}

CheckResult Registry::loop_check(Clock::time_point now) const {
  const Clock::time_point stamped{Clock::duration(heartbeat_.load())};
  const double lag = std::chrono::duration<double>(now - stamped).count();
  double max_lag = 5;
  {
    std::lock_guard lock(mutex_);
    max_lag = options_.max_loop_lag;
  }
  if (lag < max_lag) return {"loop", true, ""};
  return {"loop", false,
          "no loop heartbeat for " + seconds_text(lag) + " (health.max_loop_lag " +
              seconds_text(max_lag) + ")"};
}

CheckResult Registry::startup_check() const {
  if (containers_pending_.load() == 0) return {"startup", true, ""};
  return {"startup", false, "the services are still starting"};
}

std::vector<CheckResult> Registry::evaluate(Probe probe, Clock::time_point now) const {
  std::vector<CheckResult> results;
  switch (probe) {
    case Probe::livez:
      results.push_back(loop_check(now));
      return results;
    case Probe::startupz:
      results.push_back(startup_check());
      return results;
    case Probe::readyz:
      break;
  }
  results.push_back(loop_check(now));
  results.push_back(startup_check());
  results.push_back(draining() ? CheckResult{"draining", false, "the process is stopping"}
                               : CheckResult{"draining", true, ""});
  std::vector<std::shared_ptr<detail::ReadinessEntry>> entries;
  {
    std::lock_guard lock(mutex_);
    entries = entries_;
  }
  for (const auto& entry : entries) results.push_back(evaluate_entry(*entry, now));
  return results;
}

bool passed(const std::vector<CheckResult>& results) {
  return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.ok; });
}

}  // namespace tomodachi::health

namespace tomodachi {

ReadinessReport::ReadinessReport(std::string name, std::string reason)
    : entry_(health::Registry::instance().add(std::move(name), std::move(reason))) {}

ReadinessReport::ReadinessReport(ReadinessReport&& other) noexcept
    : entry_(std::move(other.entry_)) {}

ReadinessReport& ReadinessReport::operator=(ReadinessReport&& other) noexcept {
  if (this != &other) {
    if (entry_) health::Registry::instance().remove(entry_.get());
    entry_ = std::move(other.entry_);
  }
  return *this;
}

ReadinessReport::~ReadinessReport() {
  if (entry_) health::Registry::instance().remove(entry_.get());
}

void ReadinessReport::ok() {
  if (!entry_) return;
  std::lock_guard lock(entry_->mutex);
  entry_->ok = true;
  entry_->windowed = false;
}

void ReadinessReport::ok_between(Clock::time_point from, Clock::time_point until,
                                 std::string before, std::string after) {
  if (!entry_) return;
  std::lock_guard lock(entry_->mutex);
  entry_->windowed = true;
  entry_->from = from;
  entry_->until = until;
  entry_->reason = std::move(before);
  entry_->after = std::move(after);
}

void ReadinessReport::failing(std::string reason) {
  if (!entry_) return;
  std::lock_guard lock(entry_->mutex);
  entry_->ok = false;
  entry_->windowed = false;
  entry_->reason = std::move(reason);
}

}  // namespace tomodachi
