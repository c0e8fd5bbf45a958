#include "cli/build_info.hpp"

#include <amqp.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include <string_view>

namespace tomodachi::cli {

std::vector<std::pair<std::string, std::string>> dependency_versions() {
  auto versions = configured_dependency_versions();
  for (auto& [name, value] : versions) {
    if (name == "librabbitmq") value = amqp_version();
    if (name == "zlib") value = zlibVersion();
    if (name == "openssl") {
      // "OpenSSL 3.0.x  1 Jan 2024" → "3.0.x"
      std::string_view text = OpenSSL_version(OPENSSL_VERSION);
      if (text.rfind("OpenSSL ", 0) == 0) text.remove_prefix(8);
      value = std::string(text.substr(0, text.find(' ')));
    }
  }
  return versions;
}

}  // namespace tomodachi::cli
