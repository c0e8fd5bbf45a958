#pragma once
// The readiness of one SQS receive loop (docs/operations.md): `sqs:<queue>` passes while
// the loop runs and its last receive succeeded within `health.sqs_receive_max_age` — or a
// receive has been long-polling for a second without failing. Loop thread only (the report
// itself is thread-safe: the health endpoints read it).

#include <tomodachi/transport/health.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace tomodachi::aws {

class ReceiveHealth {
 public:
  ReceiveHealth(const std::string& queue_name, std::chrono::duration<double> max_age);

  /// A ReceiveMessage starts (a long poll that does not fail within a second counts).
  void polling();
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
};

}  // namespace tomodachi::aws
