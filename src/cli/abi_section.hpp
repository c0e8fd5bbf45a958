#pragma once
// The ABI tags a service shared object carries in its `.tomodachi_abi` section
// (TOMODACHI_SERVICE), read from the file before it is loaded.

#include <optional>
#include <string>
#include <vector>

namespace tomodachi::cli {

/// The tags in `path`'s `.tomodachi_abi` section; nullopt when the file is not a
/// readable 64-bit ELF object or has no such section.
std::optional<std::vector<std::string>> read_abi_tags(const std::string& path);

/// Throws detail::AbiMismatch with a clear message when `path` carries a tag other than
/// this runtime's.
void check_abi_tags(const std::string& path);

}  // namespace tomodachi::cli
