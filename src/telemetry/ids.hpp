#pragma once
// Trace and span ids: random from a buffered CSPRNG (OpenSSL RAND_bytes), hex forms.

#include <tomodachi/trace.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace tomodachi::telemetry {

using trace::SpanId;
using trace::TraceId;

/// A random, non-zero trace id (all 16 bytes random: W3C "random-trace-id" holds).
TraceId random_trace_id();
/// A random, non-zero span id.
SpanId random_span_id();

std::string to_hex(const std::uint8_t* data, std::size_t size);
inline std::string to_hex(const TraceId& id) { return to_hex(id.data(), id.size()); }
inline std::string to_hex(const SpanId& id) { return to_hex(id.data(), id.size()); }
/// Python's hex(int): "0x" + lowercase hex without leading zeros ("0x0" for zero), the
/// form upstream's structlog processor writes trace_id / span_id / parent_span_id in.
std::string python_hex(const std::uint8_t* data, std::size_t size);

/// Lowercase hex of exactly 2*N characters -> bytes (nullopt on any other input).
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> from_lower_hex(std::string_view hex);

template <std::size_t N>
bool is_zero(const std::array<std::uint8_t, N>& id) noexcept {
  for (auto b : id) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace tomodachi::telemetry
