#pragma once
// "released N days ago" of the usage text and banner (spec/cli.md §3).

#include <string>
#include <string_view>

namespace tomodachi::cli {

/// The phrase for `now` and `build_time` (ISO 8601 with microseconds and `Z` or an
/// offset); "" when either cannot be parsed.
std::string get_time_since_build(std::string_view now, std::string_view build_time);

/// The phrase for this binary: "local development version" when no build time was
/// embedded (TOMODACHI_BUILD_TIME at configure time).
std::string time_since_build_phrase();

}  // namespace tomodachi::cli
