#include "envelope/envelope_common.hpp"

#include <tomodachi/envelope.hpp>

#include "core/encoding.hpp"

#include <zlib.h>

#include <array>
#include <chrono>

namespace tomodachi::envelope_detail {

std::string_view kind_name(const boost::json::value& value) noexcept {
  switch (value.kind()) {
    case boost::json::kind::object: return "object";
    case boost::json::kind::array: return "array";
    case boost::json::kind::string: return "string";
    case boost::json::kind::bool_: return value.get_bool() ? "true" : "false";
    case boost::json::kind::null: return "null";
    default: return "number";
  }
}

std::string decode_base64_strict(std::string_view text, std::string_view envelope) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      throw EnvelopeError(std::string(envelope) + ": base64 text contains non-ASCII characters");
    }
  }
  std::optional<std::string> bytes = encoding::base64_decode(text);
  if (!bytes) throw EnvelopeError(std::string(envelope) + ": invalid base64 (incorrect padding)");
  return std::move(*bytes);
}

std::string inflate(std::string_view compressed, std::size_t max_size, std::string_view envelope) {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) throw EnvelopeError(std::string(envelope) + ": zlib initialisation failed");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  std::array<char, 16384> chunk{};
  int status = Z_OK;
  bool too_large = false;
  while (true) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    const std::size_t produced = chunk.size() - stream.avail_out;
    if (out.size() + produced > max_size) {
      too_large = true;
      break;
    }
    out.append(chunk.data(), produced);
    if (status == Z_STREAM_END) break;  // trailing bytes are ignored, as by Python's zlib
    if (status != Z_OK) break;
    if (stream.avail_in == 0 && produced == 0) {
      status = Z_BUF_ERROR;  // truncated stream
      break;
    }
  }
  inflateEnd(&stream);
  if (too_large) {
    throw EnvelopeError(std::string(envelope) + ": compressed data inflates beyond the limit of " +
                        std::to_string(max_size) + " bytes");
  }
  if (status != Z_STREAM_END) {
    throw EnvelopeError(std::string(envelope) + (status == Z_BUF_ERROR
                                                     ? ": incomplete or truncated zlib stream"
                                                     : ": invalid zlib stream (incorrect header or corrupt data)"));
  }
  return out;
}

double time_now() noexcept {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) / 1e6;
}

}  // namespace tomodachi::envelope_detail
