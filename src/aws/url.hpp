#pragma once
// Endpoint and queue URLs of the AWS clients.

#include <cstdint>
#include <string>
#include <string_view>

namespace tomodachi::aws {

/// An absolute http(s) URL split into what a request needs.
struct Url {
  bool tls = true;
  std::string host;  ///< lower-case host name or address (IPv6 without brackets)
  std::uint16_t port = 443;
  std::string host_header;  ///< Host header: host, plus ":port" when not the scheme's default
  std::string path;         ///< percent-encoded path, "/" when empty
  std::string query;        ///< percent-encoded query without '?'

  /// Parses `text`; throws tomodachi::ArgumentError naming it when it is not an http(s) URL.
  static Url parse(std::string_view text);

  /// scheme://host_header
  std::string origin() const;
};

}  // namespace tomodachi::aws
