#pragma once
// Helpers shared by the envelope implementations (private to src/envelope).

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace tomodachi::envelope_detail {

/// `object`, `array`, `string`, `number`, `true`/`false`, `null`: for error texts.
std::string_view kind_name(const boost::json::value& value) noexcept;

/// Python's `base64.b64decode(text)`: non-ASCII text is an error, other characters
/// outside the alphabet are skipped, padding is required. Throws EnvelopeError.
std::string decode_base64_strict(std::string_view text, std::string_view envelope);

/// Python's `zlib.decompress`, bounded: a stream that inflates beyond `max_size` bytes is
/// rejected (compression bombs); a corrupt or truncated stream too. Throws EnvelopeError.
std::string inflate(std::string_view compressed, std::size_t max_size, std::string_view envelope);

/// `time.time()`: seconds since the epoch with microseconds.
double time_now() noexcept;

}  // namespace tomodachi::envelope_detail
