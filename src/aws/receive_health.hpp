#pragma once
// The readiness of one SQS receive loop (docs/operations.md): `sqs:<queue>` passes while
// the loop runs and its last receive succeeded (or, after a success, is long-polling) within
// `health.sqs_receive_max_age`. Until the first success after the start or a failure it
// fails, and the consumer short-polls (`short_poll()`) so that it passes again quickly.
// Loop thread only (the report itself is thread-safe: the health endpoints read it).

#include <tomodachi/transport/health.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace tomodachi::aws {

class ReceiveHealth {
 public:
  ReceiveHealth(const std::string& queue_name, std::chrono::duration<double> max_age);

  /// A ReceiveMessage starts: after a success it keeps passing while it long-polls.
  void polling();
  /// True until a receive succeeded (since the start or the last failure): poll briefly.
  bool short_poll() const noexcept { return !passing_; }
  /// A ReceiveMessage succeeded (with messages or none).
  void received();
  /// A ReceiveMessage failed, or the queue is being set up again.
  void failed(std::string reason);
  /// The receive loop ended.
  void stopped();

 private:
  ReadinessReport report_;
  ReadinessReport::Clock::duration max_age_;
  std::string stale_;
  bool passing_ = false;
  bool started_ = false;
};

}  // namespace tomodachi::aws
