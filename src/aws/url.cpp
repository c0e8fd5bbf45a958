#include "aws/url.hpp"

#include "aws/ascii.hpp"

#include <tomodachi/error.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>
#include <stdexcept>

namespace tomodachi::aws {

Url Url::parse(std::string_view text) {
  const auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    throw ArgumentError("invalid URL '" + std::string(text) + "': " + parsed.error().message());
  }
  const boost::urls::url_view& view = *parsed;
  Url url;
  std::string scheme(view.scheme());
  for (auto& c : scheme) c = ascii::to_lower(c);
  if (scheme == "https") {
    url.tls = true;
  } else if (scheme == "http") {
    url.tls = false;
  } else {
    throw ArgumentError("invalid URL '" + std::string(text) + "': scheme must be http or https");
  }
  if (!view.has_authority() || view.encoded_host().empty()) {
    throw ArgumentError("invalid URL '" + std::string(text) + "': no host");
  }
  const bool ipv6 = view.host_type() == boost::urls::host_type::ipv6;
  url.host =
      ipv6 ? std::string(view.host_ipv6_address().to_string()) : std::string(view.encoded_host());
  for (auto& c : url.host) c = ascii::to_lower(c);
  const std::uint16_t default_port = url.tls ? 443 : 80;
  url.port = default_port;
  if (view.has_port()) {
    const auto port_text = view.port();
    unsigned value = 0;
    const auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      throw ArgumentError("invalid URL '" + std::string(text) + "': bad port");
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  url.host_header = ipv6 ? "[" + url.host + "]" : url.host;
  if (url.port != default_port) url.host_header += ":" + std::to_string(url.port);
  url.path = std::string(view.encoded_path());
  if (url.path.empty()) url.path = "/";
  url.query = std::string(view.encoded_query());
  return url;
}

std::string Url::origin() const { return (tls ? "https://" : "http://") + host_header; }

}  // namespace tomodachi::aws
