// The transport of `readiness_check<>` registrations (kind "health"): after start_service
// each check runs every second, bounded by its timeout, and its result goes to the
// registry as a ReadinessReport named as the check. A check that outlives its timeout is
// reported failing and not started again until it finished.
#include "core/async.hpp"

#include <tomodachi/health.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/transport/health.hpp>
#include <tomodachi/transport/transport.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <vector>

namespace tomodachi::health {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct Shared {
  core::Event stopping;
  core::Gate loops;
};

struct Outcome {
  core::Event done;
  HealthCheck result;
};

std::string describe(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

Task<void> call_check(const ReadinessCheckSpec* spec, std::shared_ptr<Outcome> outcome) {
  std::exception_ptr error;
  try {
    auto check = spec->check();
    outcome->result = co_await std::move(check);
  } catch (...) {
    error = std::current_exception();
  }
  if (error) outcome->result = HealthCheck{false, "the check raised: " + describe(error)};
  outcome->done.set();
}

std::string timeout_text(std::chrono::milliseconds timeout) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "the check did not answer within %g s",
                std::chrono::duration<double>(timeout).count());
  return buffer;
}

Task<void> check_loop(std::shared_ptr<Shared> shared, const ReadinessCheckSpec* spec,
                      std::shared_ptr<ReadinessReport> report) {
  if (!shared->loops.try_enter()) co_return;
  core::Gate::Holder held(shared->loops);
  auto executor = co_await asio::this_coro::executor;
  while (!shared->stopping.is_set()) {
    auto outcome = std::make_shared<Outcome>();
    asio::co_spawn(executor, call_check(spec, outcome), asio::detached);
    const bool answered =
        co_await outcome->done.wait_until(std::chrono::steady_clock::now() + spec->timeout);
    if (!answered) {
      report->failing(timeout_text(spec->timeout));
      while (!outcome->done.is_set() && !shared->stopping.is_set())
        co_await core::sleep_for(100ms, shared->stopping);
    } else if (outcome->result.ok) {
      report->ok();
    } else {
      report->failing(outcome->result.reason.empty() ? "the check failed" : outcome->result.reason);
    }
    co_await core::sleep_for(1s, shared->stopping);
  }
}

class ReadinessChecks final : public TransportInstance {
 public:
  explicit ReadinessChecks(std::vector<const ReadinessCheckSpec*> specs)
      : specs_(std::move(specs)) {}

  Task<void> start() override {
    auto executor = co_await asio::this_coro::executor;
    for (const ReadinessCheckSpec* spec : specs_) {
      auto report = std::make_shared<ReadinessReport>(spec->name, "the check has not run yet");
      reports_.push_back(report);
      asio::co_spawn(executor, check_loop(shared_, spec, report), asio::detached);
    }
  }
  void stop_requested() noexcept override { shared_->stopping.set(); }
  Task<void> stop(Deadline deadline) override {
    stop_requested();
    shared_->loops.close();
    co_await shared_->loops.wait_until(deadline);
    reports_.clear();
  }

 private:
  std::vector<const ReadinessCheckSpec*> specs_;
  std::vector<std::shared_ptr<ReadinessReport>> reports_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

const bool registered = [] {
  register_transport<ReadinessCheckSpec>([](Service&,
                                            std::vector<const ReadinessCheckSpec*> specs) {
    return std::unique_ptr<TransportInstance>(std::make_unique<ReadinessChecks>(std::move(specs)));
  });
  return true;
}();

}  // namespace
}  // namespace tomodachi::health
