#pragma once
// A protobuf wire-format writer for the trace export, the one OTLP body written per
// request: building the generated message tree for a batch of 512 spans and serialising it
// cost ~20,000 instructions a span (callgrind); writing the wire format straight into one
// buffer costs a tenth of that. Field numbers come from the generated classes of
// proto/otlp.proto (`pb::Span::kNameFieldNumber`, ...), so the .proto stays the one source;
// unit tests parse the output with those generated classes, and the integration tests with
// the independent decoder.

#include <tomodachi/detail/assert.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tomodachi::telemetry {

class ProtoWriter {
 public:
  enum class WireType : std::uint32_t { varint = 0, fixed64 = 1, length = 2, fixed32 = 5 };

  /// Writes at the end of `out`; `finish()` trims the spare room the writer grows into.
  explicit ProtoWriter(std::string& out) : out_(out), size_(out.size()) {}
  ~ProtoWriter() { finish(); }
  ProtoWriter(const ProtoWriter&) = delete;
  ProtoWriter& operator=(const ProtoWriter&) = delete;

  void finish() { out_.resize(size_); }

  void varint_field(int field, std::uint64_t value) {
    char* p = room(20);
    p = put_varint(p, tag(field, WireType::varint));
    size_ = static_cast<std::size_t>(put_varint(p, value) - out_.data());
  }
  void fixed64_field(int field, std::uint64_t value) {
    char* p = put_varint(room(18), tag(field, WireType::fixed64));
    size_ = static_cast<std::size_t>(put_little_endian(p, value, 8) - out_.data());
  }
  void fixed32_field(int field, std::uint32_t value) {
    char* p = put_varint(room(14), tag(field, WireType::fixed32));
    size_ = static_cast<std::size_t>(put_little_endian(p, value, 4) - out_.data());
  }
  void double_field(int field, double value) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    fixed64_field(field, bits);
  }
  void bytes_field(int field, std::string_view value) {
    char* p = room(20 + value.size());
    p = put_varint(p, tag(field, WireType::length));
    p = put_varint(p, value.size());
    if (!value.empty()) std::memcpy(p, value.data(), value.size());
    size_ = static_cast<std::size_t>(p + value.size() - out_.data());
  }

  /// Opens a length-delimited sub-message; `close(mark)` writes its length in front of it.
  /// One byte is reserved for the length: a sub-message under 128 bytes (a KeyValue, an
  /// AnyValue) is never moved; a longer one is shifted once by the extra length bytes.
  std::size_t open(int field) {
    char* p = put_varint(room(11), tag(field, WireType::length));
    *p++ = '\0';
    size_ = static_cast<std::size_t>(p - out_.data());
    return size_;
  }
  void close(std::size_t mark) {
    TOMODACHI_ASSERT(mark <= size_, "ProtoWriter::close with a mark of this writer");
    const std::size_t length = size_ - mark;
    char buffer[10];
    const auto used = static_cast<std::size_t>(put_varint(buffer, length) - buffer);
    if (used > 1) {  // shift the body right by the extra length bytes
      room(used - 1);
      std::memmove(out_.data() + mark + used - 1, out_.data() + mark, length);
      size_ += used - 1;
    }
    std::memcpy(out_.data() + mark - 1, buffer, used);
  }

 private:
  static std::uint64_t tag(int field, WireType type) {
    return static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint32_t>(type);
  }
  static char* put_varint(char* p, std::uint64_t value) {
    while (value >= 0x80) {
      *p++ = static_cast<char>((value & 0x7f) | 0x80);
      value >>= 7;
    }
    *p++ = static_cast<char>(value);
    return p;
  }
  static char* put_little_endian(char* p, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) *p++ = static_cast<char>(value >> (8 * i) & 0xff);
    return p;
  }
  /// Room for `n` more bytes after the cursor; returns the cursor.
  char* room(std::size_t n) {
    if (size_ + n > out_.size())
      out_.resize(std::max({out_.capacity(), out_.size() * 2, size_ + n + 4096}));
    return out_.data() + size_;
  }

  std::string& out_;
  std::size_t size_;  ///< bytes written; out_ beyond it is spare room
};

}  // namespace tomodachi::telemetry
