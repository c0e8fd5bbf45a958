#pragma once
// A protobuf wire-format writer for the trace export, the one OTLP body written per
// request: building the generated message tree for a batch of 512 spans and serialising it
// cost ~20,000 instructions a span (callgrind); writing the wire format straight into one
// buffer costs a tenth of that. Field numbers come from the generated classes of
// proto/otlp.proto (`pb::Span::kNameFieldNumber`, ...), so the .proto stays the one source;
// unit tests parse the output with those generated classes, and the integration tests with
// the independent decoder.

#include <tomodachi/detail/assert.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tomodachi::telemetry {

class ProtoWriter {
 public:
  enum class WireType : std::uint32_t { varint = 0, fixed64 = 1, length = 2, fixed32 = 5 };

  explicit ProtoWriter(std::string& out) : out_(out) {}

  void varint_field(int field, std::uint64_t value) {
    tag(field, WireType::varint);
    varint(value);
  }
  void fixed64_field(int field, std::uint64_t value) {
    tag(field, WireType::fixed64);
    little_endian(value, 8);
  }
  void fixed32_field(int field, std::uint32_t value) {
    tag(field, WireType::fixed32);
    little_endian(value, 4);
  }
  void double_field(int field, double value) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    fixed64_field(field, bits);
  }
  void bytes_field(int field, std::string_view value) {
    tag(field, WireType::length);
    varint(value.size());
    out_.append(value);
  }

  /// Opens a length-delimited sub-message; `close(mark)` writes its length in front of it.
  /// One byte is reserved for the length: a sub-message under 128 bytes (a KeyValue, an
  /// AnyValue) is never moved; a longer one is shifted once by the extra length bytes.
  std::size_t open(int field) {
    tag(field, WireType::length);
    out_.push_back('\0');
    return out_.size();
  }
  void close(std::size_t mark) {
    TOMODACHI_ASSERT(mark <= out_.size(), "ProtoWriter::close with a mark of this writer");
    const std::size_t length = out_.size() - mark;
    char buffer[10];
    const std::size_t used = encode_varint(length, buffer);
    if (used > 1) out_.insert(mark, used - 1, '\0');  // shifts the body right
    std::memcpy(out_.data() + mark - 1, buffer, used);
  }

 private:
  static std::size_t encode_varint(std::uint64_t value, char* buffer) {
    std::size_t used = 0;
    while (value >= 0x80) {
      buffer[used++] = static_cast<char>((value & 0x7f) | 0x80);
      value >>= 7;
    }
    buffer[used++] = static_cast<char>(value);
    return used;
  }
  void varint(std::uint64_t value) {
    char buffer[10];
    out_.append(buffer, encode_varint(value, buffer));
  }
  void tag(int field, WireType type) {
    varint(static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint32_t>(type));
  }
  void little_endian(std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>(value >> (8 * i) & 0xff));
  }

  std::string& out_;
};

}  // namespace tomodachi::telemetry
