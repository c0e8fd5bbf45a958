#pragma once
// W3C Trace Context (traceparent / tracestate), strict as the spec's receiving rules.

#include "telemetry/ids.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tomodachi::telemetry {

struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  std::uint8_t flags = 0;  ///< bit 0: sampled
  std::string trace_state;
  bool remote = false;

  bool valid() const noexcept { return !is_zero(trace_id) && !is_zero(span_id); }
  bool sampled() const noexcept { return (flags & 0x01) != 0; }
};

/// Parses a `traceparent` value. nullopt when the header must be ignored: bad syntax,
/// uppercase hex, version ff, all-zero ids; version 00 with trailing data. A higher
/// version is read from its first 55 characters when the 56th is '-' or absent.
std::optional<SpanContext> parse_traceparent(std::string_view value);

/// `00-<trace id>-<span id>-<flags>` (always version 00).
std::string format_traceparent(const SpanContext& context);

/// A `tracestate` value kept when well-formed (≤ 32 list members of valid keys and values,
/// ≤ 512 characters after trimming optional whitespace), else "" (the header is dropped).
std::string normalize_tracestate(std::string_view value);

/// Extracts a remote parent from `traceparent` / `tracestate` carrier values.
std::optional<SpanContext> extract(std::optional<std::string_view> traceparent,
                                   std::optional<std::string_view> tracestate);

}  // namespace tomodachi::telemetry
