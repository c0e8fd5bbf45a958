// Random ids from a buffered CSPRNG: one RAND_bytes call per 4 KiB, per thread.
#include "telemetry/ids.hpp"

#include <tomodachi/error.hpp>

#include <openssl/rand.h>

#include <cstring>

namespace tomodachi::telemetry {
namespace {

struct RandomBuffer {
  std::array<std::uint8_t, 4096> bytes{};
  std::size_t used = bytes.size();

  void take(std::uint8_t* out, std::size_t n) {
    if (used + n > bytes.size()) {
      if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw Error("RAND_bytes failed");
      }
      used = 0;
    }
    std::memcpy(out, bytes.data() + used, n);
    std::memset(bytes.data() + used, 0, n);  // ids handed out are not kept around
    used += n;
  }
};

thread_local RandomBuffer random_buffer;

template <typename Id>
Id random_id() {
  Id id{};
  do {
    random_buffer.take(id.data(), id.size());
  } while (is_zero(id));
  return id;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

TraceId random_trace_id() { return random_id<TraceId>(); }
SpanId random_span_id() { return random_id<SpanId>(); }

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xf];
  }
  return out;
}

std::string python_hex(const std::uint8_t* data, std::size_t size) {
  std::string hex = to_hex(data, size);
  auto first = hex.find_first_not_of('0');
  return "0x" + (first == std::string::npos ? std::string("0") : hex.substr(first));
}

template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> from_lower_hex(std::string_view hex) {
  if (hex.size() != 2 * N) return std::nullopt;
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

template std::optional<std::array<std::uint8_t, 1>> from_lower_hex<1>(std::string_view);
template std::optional<std::array<std::uint8_t, 8>> from_lower_hex<8>(std::string_view);
template std::optional<std::array<std::uint8_t, 16>> from_lower_hex<16>(std::string_view);

}  // namespace tomodachi::telemetry
