// The readiness of one SQS receive loop (receive_health.hpp).
#include "aws/receive_health.hpp"

#include <cstdio>

namespace tomodachi::aws {

namespace {
using Clock = ReadinessReport::Clock;
constexpr std::string_view first_poll = "waiting for the first receive";
}  // namespace

ReceiveHealth::ReceiveHealth(const std::string& queue_name, std::chrono::duration<double> max_age)
    : report_("sqs:" + queue_name, "the receive loop has not started"),
      max_age_(std::chrono::duration_cast<Clock::duration>(max_age)) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer,
                "no successful receive within health.sqs_receive_max_age (%g s)", max_age.count());
  stale_ = buffer;
}

void ReceiveHealth::polling() {
  if (!passing_) {
    if (!started_) report_.failing(std::string(first_poll));
    started_ = true;
    return;  // only a receive that succeeded passes again
  }
  const auto now = Clock::now();
  report_.ok_between(now, now + max_age_, std::string(first_poll), stale_);
}

void ReceiveHealth::received() {
  passing_ = true;
  const auto now = Clock::now();
  report_.ok_between(now, now + max_age_, std::string(first_poll), stale_);
}

void ReceiveHealth::failed(std::string reason) {
  passing_ = false;
  report_.failing(std::move(reason));
}

void ReceiveHealth::stopped() {
  passing_ = false;
  report_.failing("the receive loop stopped");
}

}  // namespace tomodachi::aws
