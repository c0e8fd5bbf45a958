#pragma once
// Helpers shared by the envelope implementations (private to src/envelope).

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace tomodachi::envelope_impl {

/// `object`, `array`, `string`, `number`, `true`/`false`, `null`: for error texts.
std::string_view kind_name(const boost::json::value& value) noexcept;

/// Python's `base64.b64decode(text)`: non-ASCII text is an error, other characters
/// outside the alphabet are skipped, padding is required. Throws EnvelopeError.
std::string decode_base64_strict(std::string_view text, std::string_view envelope);

/// Python's `zlib.decompress`, bounded: a stream that inflates beyond `max_size` bytes is
/// rejected (compression bombs); a corrupt or truncated stream too. Throws EnvelopeError.
std::string inflate(std::string_view compressed, std::size_t max_size, std::string_view envelope);

/// Python's `json.loads` of decompressed `text` within a memory budget: the value and the
/// parser's working memory come from a resource that counts them and fails the parse
/// (EnvelopeError naming `what` and the limit) once more than `max_bytes` are held. The
/// value keeps that resource (shared); after the parse it no longer counts or limits, so
/// the value may be copied and destroyed on any thread. Invalid JSON: EnvelopeError.
boost::json::value parse_json_within(std::string_view text, std::size_t max_bytes,
                                     std::string_view what);

/// `time.time()`: seconds since the epoch with microseconds.
double time_now() noexcept;

}  // namespace tomodachi::envelope_impl
