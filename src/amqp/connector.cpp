#include "amqp/connector.hpp"

#include "amqp/handshake.hpp"
#include "amqp/log.hpp"

#include <algorithm>

namespace tomodachi::amqp_impl {
namespace {
// While the process stops, an attempt must not hold the I/O thread (and the close) up.
constexpr std::chrono::milliseconds stop_connect_timeout{500};
}  // namespace

Connector::Connector(SharedState& shared, Link& link, ReconnectPolicy& policy,
                     TopologyRunner& topology, std::function<void()> opened)
    : shared_(shared),
      link_(link),
      policy_(policy),
      topology_(topology),
      opened_(std::move(opened)) {}

bool Connector::open(std::chrono::milliseconds timeout, std::string& reason) {
  amqp_connection_state_t conn = open_connection(shared_.settings, timeout, reason);
  if (!conn) return false;
  link_.adopt(conn);
  ++epoch_;
  shared_.current_epoch.store(epoch_);
  policy_.opened(Clock::now());
  opened_();
  return true;
}

std::exception_ptr Connector::connect_first(Clock::time_point deadline) {
  const auto& settings = shared_.settings;
  std::string reason;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  const bool connected_now =
      left.count() > 0 && open(std::min(settings.connect_timeout, left), reason);
  if (left.count() <= 0) reason = "timed out";
  if (connected_now) {
    ever_connected_ = true;
    shared_.has_connected.store(true);
    log().debug("connected [amqp] to " + settings.address());
    return nullptr;
  }
  const std::string message =
      "Unable to connect [amqp] to " + settings.address() + " (" + reason + ")";
  log().warning(message);
  return std::make_exception_ptr(AmqpConnectionException(message));
}

bool Connector::reconnect() {
  const auto& settings = shared_.settings;
  std::string reason;
  const auto timeout = shared_.stopping.load()
                           ? std::min(settings.connect_timeout, stop_connect_timeout)
                           : settings.connect_timeout;
  if (open(timeout, reason)) {
    const double outage = std::chrono::duration<double>(Clock::now() - lost_at_).count();
    log().info("reconnected [amqp] to " + settings.address(),
               LogFields{LogField{"outage_seconds", outage}});
    topology_.replay();
    return true;
  }
  if (reason != last_failure_) {
    log().warning("Unable to connect [amqp] to " + settings.address() + " (" + reason +
                  ") - retrying");
    last_failure_ = reason;
  }
  policy_.attempt_failed(Clock::now());
  return false;
}

void Connector::lost(const std::string& reason) {
  log().warning("lost connection [amqp] to " + shared_.settings.address() + " (" + reason +
                ") - reconnecting");
  link_.destroy();
  lost_at_ = Clock::now();
  last_failure_.clear();
  policy_.lost(lost_at_);
}

}  // namespace tomodachi::amqp_impl
