#pragma once
// The span model handed to processors and encoders.

#include "telemetry/trace_context.hpp"

#include <tomodachi/trace.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tomodachi::telemetry {

using trace::Attributes;
using trace::AttributeValue;
using trace::SpanKind;
using trace::StatusCode;

struct EventData {
  std::uint64_t time_unix_nano = 0;
  std::string name;
  Attributes attributes;
};

struct SpanData {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  ///< all zero for a root span
  bool parent_remote = false;
  std::string trace_state;
  std::uint8_t trace_flags = 0;
  std::string name;
  SpanKind kind = SpanKind::internal;
  std::uint64_t start_time_unix_nano = 0;
  std::uint64_t end_time_unix_nano = 0;
  Attributes attributes;
  std::vector<EventData> events;
  StatusCode status = StatusCode::unset;
  std::string status_message;

  bool has_parent() const noexcept { return !is_zero(parent_span_id); }
};

/// Receives ended, sampled spans (the batch processor).
class SpanSink {
 public:
  virtual ~SpanSink() = default;
  virtual void on_end(SpanData&& span) = 0;
};

std::uint64_t unix_nanos_now() noexcept;

}  // namespace tomodachi::telemetry

namespace tomodachi::trace::detail {
struct SpanState {
  telemetry::SpanData data;
  bool recording = false;  ///< sampled and not ended
  std::shared_ptr<telemetry::SpanSink> sink;
  ~SpanState();
  void finish();
};
}  // namespace tomodachi::trace::detail
