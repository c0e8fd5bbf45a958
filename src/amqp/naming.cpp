#include "amqp/naming.hpp"

#include "core/encoding.hpp"

#include <tomodachi/amqp.hpp>
#include <tomodachi/error.hpp>

#include <cmath>
#include <stdexcept>

namespace tomodachi::amqp_impl {
namespace {

constexpr std::string_view allowed_punctuation = "_*#,;.:<>!\"%&/()[]{}\\=?'^`~+|@$ -";
constexpr char hex_digits[] = "0123456789abcdef";

bool is_allowed(unsigned char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return c < 0x80 && allowed_punctuation.find(static_cast<char>(c)) != std::string_view::npos;
}

// Length of the valid UTF-8 sequence starting at `text[i]`, or 1 for an invalid byte.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  std::uint32_t minimum = 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, minimum = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, minimum = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, minimum = 0x10000;
  } else {
    return 1;
  }
  if (i + length > text.size()) return 1;
  std::uint32_t code_point = lead & (0x7f >> length);
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 1;
    code_point = (code_point << 6) | (byte(i + k) & 0x3f);
  }
  if (code_point < minimum || code_point > 0x10ffff) return 1;
  if (code_point >= 0xd800 && code_point <= 0xdfff) return 1;  // surrogates are not UTF-8
  return length;
}

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

int hex_value(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

bool is_valid_utf8(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t length = utf8_sequence_length(bytes, i);
    if (length == 1 && static_cast<unsigned char>(bytes[i]) >= 0x80) return false;
    i += length;
  }
  return true;
}

// Length of the hex group of a `___<hex>_` match at `encoded[i]` (Python's regex tries the
// alternatives 2, 4, 6, 8 in that order), or 0 when there is none.
std::size_t encoded_group_length(std::string_view encoded, std::size_t i) {
  if (encoded.substr(i, 3) != "___") return 0;
  const std::size_t start = i + 3;
  for (std::size_t length : {2u, 4u, 6u, 8u}) {
    if (start + length >= encoded.size()) return 0;
    bool hex = true;
    for (std::size_t k = 0; k < length && hex; ++k) hex = is_lower_hex(encoded[start + k]);
    if (!hex) return 0;
    if (encoded[start + length] == '_') return length;
  }
  return 0;
}

}  // namespace

std::string encode_routing_key(std::string_view routing_key) {
  std::string out;
  out.reserve(routing_key.size());
  for (std::size_t i = 0; i < routing_key.size();) {
    const auto c = static_cast<unsigned char>(routing_key[i]);
    if (is_allowed(c)) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const std::size_t length = utf8_sequence_length(routing_key, i);
    out += "___";
    for (std::size_t k = 0; k < length; ++k) {
      const auto b = static_cast<unsigned char>(routing_key[i + k]);
      out += hex_digits[b >> 4];
      out += hex_digits[b & 0x0f];
    }
    out += '_';
    i += length;
  }
  return out;
}

std::string decode_routing_key(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size();) {
    const std::size_t length = encoded_group_length(encoded, i);
    if (length == 0) {
      out += encoded[i++];
      continue;
    }
    std::string bytes;
    for (std::size_t k = 0; k < length; k += 2) {
      const char high = encoded[i + 3 + k], low = encoded[i + 3 + k + 1];
      bytes += static_cast<char>(hex_value(high) * 16 + hex_value(low));
    }
    if (!is_valid_utf8(bytes)) {
      throw ArgumentError("cannot decode routing key \"" + std::string(encoded) + "\": ___" +
                          std::string(encoded.substr(i + 3, length)) + "_ is not valid UTF-8");
    }
    out += bytes;
    i += 3 + length + 1;
  }
  return out;
}

std::string prefixed_routing_key(std::string_view routing_key, std::string_view option_prefix,
                                 const std::optional<std::string>& prefix_override) {
  const std::string_view prefix =
      prefix_override ? std::string_view(*prefix_override) : option_prefix;
  std::string out;
  out.reserve(prefix.size() + routing_key.size());
  out += prefix;
  out += routing_key;
  return out;
}

std::string wire_routing_key(std::string_view routing_key, std::string_view option_prefix,
                             const std::optional<std::string>& prefix_override) {
  return encode_routing_key(prefixed_routing_key(routing_key, option_prefix, prefix_override));
}

std::string routing_key_without_prefix(std::string_view routing_key, std::string_view prefix) {
  if (!prefix.empty() && routing_key.substr(0, prefix.size()) == prefix) {
    routing_key.remove_prefix(prefix.size());
  }
  return std::string(routing_key);
}

std::string hashed_queue_name(std::string_view encoded_routing_key, std::string_view function_name,
                              std::string_view service_uuid, bool competing,
                              std::string_view queue_name_prefix) {
  std::string hash_input(encoded_routing_key);
  if (!competing) {
    hash_input += function_name;
    hash_input += service_uuid;
  }
  return std::string(queue_name_prefix) + encoding::sha256_hex(hash_input);
}

bool resolve_competing(std::optional<bool> competing, bool has_queue_name) {
  return competing.value_or(has_queue_name);
}

std::string subscription_queue_name(std::string_view routing_key, std::string_view function_name,
                                    std::string_view service_uuid, std::optional<bool> competing,
                                    const std::optional<std::string>& queue_name,
                                    std::string_view queue_name_prefix) {
  if (queue_name) return std::string(queue_name_prefix) + *queue_name;
  return hashed_queue_name(encode_routing_key(routing_key), function_name, service_uuid,
                           resolve_competing(competing, false), queue_name_prefix);
}

std::optional<std::int64_t> x_expires_ms(double queue_ttl_seconds) {
  if (queue_ttl_seconds == 0 || std::isnan(queue_ttl_seconds)) return std::nullopt;
  return static_cast<std::int64_t>(queue_ttl_seconds * 1000);
}

}  // namespace tomodachi::amqp_impl

namespace tomodachi::amqp_names {

std::string encode_routing_key(std::string_view routing_key) {
  return amqp_impl::encode_routing_key(routing_key);
}

std::string decode_routing_key(std::string_view encoded) {
  return amqp_impl::decode_routing_key(encoded);
}

std::string routing_key(std::string_view routing_key, std::string_view option_prefix,
                        const std::optional<std::string>& prefix_override) {
  return amqp_impl::wire_routing_key(routing_key, option_prefix, prefix_override);
}

std::string queue_name(std::string_view routing_key, std::string_view handler_name,
                       std::string_view service_uuid, std::optional<bool> competing,
                       const std::optional<std::string>& queue_name,
                       std::string_view queue_name_prefix) {
  return amqp_impl::subscription_queue_name(routing_key, handler_name, service_uuid, competing,
                                            queue_name, queue_name_prefix);
}

}  // namespace tomodachi::amqp_names
