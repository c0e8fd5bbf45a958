#pragma once
// Byte encodings shared by the areas: base64, hex, SHA-256/HMAC, zlib, uuid4.
// (Offered by core for envelope, amqp and aws; not a public header.)

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tomodachi::encoding {

/// Standard base64 alphabet with `=` padding.
std::string base64_encode(std::string_view bytes);

/// Decodes standard base64 like Python's `base64.b64decode` (non-alphabet characters
/// are skipped, padding required). nullopt for bad padding / length.
std::optional<std::string> base64_decode(std::string_view text);

/// Lower-case hex of `bytes`.
std::string hex_lower(std::string_view bytes);

/// Raw SHA-256 digest (32 bytes) and its lower-case hex form (`sha256hex(s)` of spec/wire.md).
std::string sha256(std::string_view bytes);
std::string sha256_hex(std::string_view bytes);

/// Raw HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view bytes);

/// zlib stream (RFC 1950, header `78 9c` at the default level 6), as Python's zlib.compress.
std::string zlib_compress(std::string_view bytes, int level = 6);

/// Inflates a zlib stream; nullopt when it is malformed or would exceed `max_size`
/// bytes (protection against compression bombs).
std::optional<std::string> zlib_decompress(std::string_view bytes, std::size_t max_size);

/// A random (version 4) uuid in canonical lower-case form.
std::string uuid4();

/// Python `len()` of UTF-8 text: the number of code points (continuation bytes not counted).
std::size_t code_point_count(std::string_view text) noexcept;

}  // namespace tomodachi::encoding
