#include "http/http_util.hpp"

#include "core/encoding.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace tomodachi::http_impl {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// The value of the first `;`-separated segment containing `charset=` (spaces stripped).
std::optional<std::string> charset_segment(std::string_view content_type) {
  std::size_t start = 0;
  while (start <= content_type.size()) {
    auto end = content_type.find(';', start);
    if (end == std::string_view::npos) end = content_type.size();
    std::string_view segment = content_type.substr(start, end - start);
    auto at = segment.find("charset=");
    if (at != std::string_view::npos) {
      std::string value(segment.substr(0, at));
      value += segment.substr(at + 8);
      return std::string(trim(value));
    }
    start = end + 1;
  }
  return std::nullopt;
}

/// Decodes one UTF-8 code point at `i`; -1 when invalid.
long next_code_point(std::string_view text, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int length = (c >= 0xF0 && c <= 0xF4) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC2 && c < 0xE0) ? 2 : 0;
  if (length == 0 || i + static_cast<std::size_t>(length) > text.size()) return -1;
  long value = c & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
  for (int k = 1; k < length; ++k) {
    unsigned char next = byte(i + static_cast<std::size_t>(k));
    if ((next & 0xC0) != 0x80) return -1;
    value = (value << 6) | (next & 0x3F);
  }
  if ((length == 3 && value < 0x800) || (length == 4 && (value < 0x10000 || value > 0x10FFFF)) ||
      (value >= 0xD800 && value <= 0xDFFF)) {
    return -1;
  }
  i += static_cast<std::size_t>(length);
  return value;
}

void append_unit(std::string& out, unsigned long value, int bytes, bool big_endian) {
  for (int k = 0; k < bytes; ++k) {
    int shift = big_endian ? 8 * (bytes - 1 - k) : 8 * k;
    out.push_back(static_cast<char>((value >> shift) & 0xFF));
  }
}

std::optional<std::string> encode_wide(std::string_view utf8, int unit, bool big_endian, bool bom) {
  std::string out;
  out.reserve(utf8.size() * static_cast<std::size_t>(unit) + 4);
  if (bom) append_unit(out, 0xFEFF, unit, big_endian);
  for (std::size_t i = 0; i < utf8.size();) {
    long cp = next_code_point(utf8, i);
    if (cp < 0) return std::nullopt;
    if (unit == 4 || cp < 0x10000) {
      append_unit(out, static_cast<unsigned long>(cp), unit, big_endian);
    } else {
      unsigned long v = static_cast<unsigned long>(cp) - 0x10000;
      append_unit(out, 0xD800 + (v >> 10), 2, big_endian);
      append_unit(out, 0xDC00 + (v & 0x3FF), 2, big_endian);
    }
  }
  return out;
}

std::optional<std::string> encode_narrow(std::string_view utf8, long limit) {
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    long cp = next_code_point(utf8, i);
    if (cp < 0 || cp > limit) return std::nullopt;
    out.push_back(static_cast<char>(cp));
  }
  return out;
}

bool one_of(std::string_view value, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const std::string* find_header(const Headers& headers, std::string_view name) noexcept {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return &value;
  }
  return nullptr;
}

// ---- options -----------------------------------------------------------------------

std::int64_t parse_client_max_size(const std::variant<std::int64_t, std::string>& value) {
  std::int64_t bytes = 0;
  if (const auto* number = std::get_if<std::int64_t>(&value)) {
    bytes = *number;
  } else {
    const std::string& text = std::get<std::string>(value);
    std::string upper(trim(text));
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    std::int64_t multiplier = 1;
    for (auto [suffix, factor] : {std::pair<std::string_view, std::int64_t>{"KB", 1024},
                                  {"MB", 1024 * 1024},
                                  {"GB", 1024 * 1024 * 1024},
                                  {"K", 1024},
                                  {"M", 1024 * 1024},
                                  {"G", 1024 * 1024 * 1024},
                                  {"B", 1}}) {
      if (upper.size() > suffix.size() && upper.ends_with(suffix)) {
        upper.resize(upper.size() - suffix.size());
        multiplier = factor;
        break;
      }
    }
    std::string_view digits = trim(upper);
    bool valid = !digits.empty() && std::all_of(digits.begin(), digits.end(),
                                                [](unsigned char c) { return std::isdigit(c); });
    std::int64_t parsed = 0;
    if (valid) {
      auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
      valid = error == std::errc() && end == digits.data() + digits.size();
    }
    if (!valid || parsed > (std::int64_t{1} << 40)) {
      throw OptionError("Bad value for http option client_max_size: " + text);
    }
    bytes = parsed * multiplier;
  }
  if (bytes < 1024) {
    throw OptionError("Too low value for http option client_max_size: " + std::to_string(bytes));
  }
  if (bytes > 1073741824) {
    throw OptionError("Too high value for http option client_max_size: " + std::to_string(bytes));
  }
  return bytes;
}

KeepAliveConfig::KeepAliveConfig(int timeout_seconds, int max_requests_per_connection,
                                 int max_seconds)
    : timeout(timeout_seconds), max_requests(max_requests_per_connection), max_time(max_seconds) {
  if (timeout > 0) {
    header = "timeout=" + std::to_string(timeout);
    if (max_requests > 0) header += ", max=" + std::to_string(max_requests);
  }
}

KeepAliveConfig keepalive_config(const Options::Http& http) {
  const int timeout = http.keepalive_timeout ? http.keepalive_timeout : http.keepalive_expiry;
  if (timeout < 0) {
    throw OptionError("Bad value for http option keepalive_timeout: " + std::to_string(timeout));
  }
  const int max_requests = http.max_keepalive_requests.value_or(0);
  const int max_time = http.max_keepalive_time.value_or(0);
  if (max_requests < 0) {
    throw OptionError("Bad value for http option max_keepalive_requests: " +
                      std::to_string(max_requests));
  }
  if (max_time < 0) {
    throw OptionError("Bad value for http option max_keepalive_time: " + std::to_string(max_time));
  }
  for (auto [name, value] : {std::pair<const char*, int>{"max_keepalive_requests", max_requests},
                             {"max_keepalive_time", max_time}}) {
    if (value && timeout <= 0) {
      throw OptionError(std::string("HTTP keep-alive must be enabled to use http option ") + name +
                        " - a http.keepalive_timeout option value is required");
    }
  }
  return KeepAliveConfig(timeout, max_requests, max_time);
}

KeepAliveDecision decide_keep_alive(const KeepAliveConfig& config, bool client_wants_keep_alive,
                                    std::uint64_t requests_on_connection,
                                    std::chrono::steady_clock::duration connection_age,
                                    bool shutting_down) {
  KeepAliveDecision decision;
  if (!config.enabled() || !client_wants_keep_alive || shutting_down) return decision;
  if (config.max_requests > 0 &&
      requests_on_connection >= static_cast<std::uint64_t>(config.max_requests)) {
    return decision;
  }
  if (config.max_time > 0 && connection_age > std::chrono::seconds(config.max_time))
    return decision;
  decision.keep_alive = true;
  decision.keep_alive_header = config.header;
  return decision;
}

// ---- addresses -----------------------------------------------------------------------

IpNetwork parse_ip_network(std::string_view text) {
  std::string value(trim(text));
  IpNetwork network;
  std::string address = value;
  std::optional<int> prefix;
  if (auto slash = value.find('/'); slash != std::string::npos) {
    address = value.substr(0, slash);
    int parsed = -1;
    auto digits = std::string_view(value).substr(slash + 1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
    if (error != std::errc() || end != digits.data() + digits.size()) parsed = -1;
    prefix = parsed;
  }
  if (inet_pton(AF_INET, address.c_str(), network.bytes.data()) == 1) {
    network.v6 = false;
    network.prefix = prefix.value_or(32);
    if (network.prefix < 0 || network.prefix > 32) {
      throw OptionError("Invalid IP network in http option real_ip_from: " + value);
    }
  } else if (inet_pton(AF_INET6, address.c_str(), network.bytes.data()) == 1) {
    network.v6 = true;
    network.prefix = prefix.value_or(128);
    if (network.prefix < 0 || network.prefix > 128) {
      throw OptionError("Invalid IP network in http option real_ip_from: " + value);
    }
  } else {
    throw OptionError("Invalid IP network in http option real_ip_from: " + value);
  }
  return network;
}

std::vector<IpNetwork> parse_ip_networks(const std::vector<std::string>& values) {
  std::vector<IpNetwork> networks;
  for (const auto& value : values) {
    if (trim(value).empty()) continue;
    networks.push_back(parse_ip_network(value));
  }
  return networks;
}

bool address_in_networks(std::string_view address, const std::vector<IpNetwork>& networks) {
  if (networks.empty()) return false;
  std::string text(address);
  std::array<unsigned char, 16> bytes{};
  bool v6 = false;
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) != 1) {
    if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return false;
    v6 = true;
  }
  std::array<unsigned char, 16> mapped{};
  bool is_mapped = false;
  if (v6) {
    static constexpr unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes.data(), prefix, 12) == 0) {
      std::memcpy(mapped.data(), bytes.data() + 12, 4);
      is_mapped = true;
    }
  }
  auto inside = [](const unsigned char* a, const unsigned char* b, int prefix) {
    int full = prefix / 8;
    if (std::memcmp(a, b, static_cast<std::size_t>(full)) != 0) return false;
    int rest = prefix % 8;
    if (rest == 0) return true;
    unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
  };
  for (const auto& network : networks) {
    if (network.v6 == v6 && inside(bytes.data(), network.bytes.data(), network.prefix)) return true;
    if (!network.v6 && is_mapped && inside(mapped.data(), network.bytes.data(), network.prefix)) {
      return true;
    }
  }
  return false;
}

std::string real_ip(std::string_view peer, std::optional<std::string_view> header_value,
                    const std::vector<IpNetwork>& trusted) {
  if (!header_value || !address_in_networks(peer, trusted)) return std::string(peer);
  std::string_view value = *header_value;
  value = value.substr(0, value.find(','));
  value = trim(value);
  value = value.substr(0, value.find(' '));
  return std::string(value);
}

std::string basic_auth_user(std::string_view authorization) {
  authorization = trim(authorization);
  auto space = authorization.find(' ');
  if (space == std::string_view::npos || !iequals(authorization.substr(0, space), "basic"))
    return {};
  std::string_view encoded = trim(authorization.substr(space + 1));
  if (encoded.empty() || encoded.size() % 4 != 0) return {};
  for (char c : encoded) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '='))
      return {};
  }
  auto decoded = encoding::base64_decode(encoded);
  if (!decoded) return {};
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return {};
  return decoded->substr(0, colon);
}

// ---- paths ---------------------------------------------------------------------------

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = hex(text[i + 1]);
      int low = hex(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

// ---- forms ---------------------------------------------------------------------------

namespace {

/// `key="value"` or `key=value` from a `;`-separated header value (case-insensitive key).
std::optional<std::string> header_parameter(std::string_view header, std::string_view key) {
  std::size_t position = header.find(';');
  while (position != std::string_view::npos) {
    std::string_view rest = header.substr(position + 1);
    std::size_t next = rest.find(';');
    std::string_view segment = trim(rest.substr(0, next));
    auto equals = segment.find('=');
    if (equals != std::string_view::npos && iequals(trim(segment.substr(0, equals)), key)) {
      std::string_view value = trim(segment.substr(equals + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return std::string(value);
    }
    position = next == std::string_view::npos ? next : position + 1 + next;
  }
  return std::nullopt;
}

std::string form_decode(std::string_view text) {
  std::string value(text);
  std::replace(value.begin(), value.end(), '+', ' ');
  return percent_decode(value);
}

}  // namespace

std::optional<std::vector<FormField>> parse_form(std::string_view content_type,
                                                 std::string_view body) {
  std::vector<FormField> fields;
  std::string_view mime = trim(content_type.substr(0, content_type.find(';')));
  if (iequals(mime, "application/x-www-form-urlencoded")) {
    while (!body.empty()) {
      auto amp = body.find('&');
      std::string_view pair = body.substr(0, amp);
      body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
      if (pair.empty()) continue;
      auto eq = pair.find('=');
      FormField field;
      field.name = form_decode(pair.substr(0, eq));
      if (eq != std::string_view::npos) field.value = form_decode(pair.substr(eq + 1));
      fields.push_back(std::move(field));
    }
    return fields;
  }
  if (!iequals(mime, "multipart/form-data")) return fields;
  auto boundary = header_parameter(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 200) return std::nullopt;
  const std::string delimiter = "--" + *boundary;
  std::size_t position = body.find(delimiter);
  if (position == std::string_view::npos) return std::nullopt;
  position += delimiter.size();
  for (;;) {
    if (body.substr(position, 2) == "--") return fields;  // closing delimiter
    if (body.substr(position, 2) != "\r\n") return std::nullopt;
    position += 2;
    std::size_t head_end = body.find("\r\n\r\n", position);
    if (head_end == std::string_view::npos) return std::nullopt;
    std::string_view head = body.substr(position, head_end - position);
    std::size_t content_start = head_end + 4;
    std::size_t content_end = body.find("\r\n" + delimiter, content_start);
    if (content_end == std::string_view::npos) return std::nullopt;
    FormField field;
    bool has_disposition = false;
    while (!head.empty()) {
      auto line_end = head.find("\r\n");
      std::string_view line = head.substr(0, line_end);
      head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
      auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = trim(line.substr(0, colon));
      std::string_view value = trim(line.substr(colon + 1));
      if (iequals(name, "Content-Disposition")) {
        has_disposition = true;
        field.name = header_parameter(value, "name").value_or("");
        field.filename = header_parameter(value, "filename");
      } else if (iequals(name, "Content-Type")) {
        field.content_type = std::string(value);
      }
    }
    if (!has_disposition) return std::nullopt;
    field.value = std::string(body.substr(content_start, content_end - content_start));
    fields.push_back(std::move(field));
    position = content_end + 2 + delimiter.size();
  }
}

// ---- responses -----------------------------------------------------------------------

ContentDefaults::ContentDefaults(std::string mime_type, std::string default_charset)
    : mime(std::move(mime_type)),
      charset(std::move(default_charset)),
      header(mime + "; charset=" + charset) {}

ContentDefaults content_defaults(std::string_view content_type, std::string_view charset) {
  if (content_type.find(';') != std::string_view::npos) {
    if (auto segment = charset_segment(content_type)) {
      return ContentDefaults(std::string(trim(content_type.substr(0, content_type.find(';')))),
                             *segment);
    }
  }
  return ContentDefaults(std::string(content_type), std::string(charset));
}

namespace {
bool is_utf8_name(std::string_view charset) noexcept {
  charset = trim(charset);
  return iequals(charset, "utf-8") || iequals(charset, "utf8");
}
}  // namespace

std::optional<std::string> encode_text(std::string utf8, std::string_view charset) {
  if (is_utf8_name(charset)) return utf8;  // the common case: no copy, no lower-casing
  std::string name = lower(trim(charset));
  std::replace(name.begin(), name.end(), '_', '-');
  if (one_of(name, {"utf-8", "utf8", "u8", "utf", "cp65001"})) return utf8;
  if (one_of(name, {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "iso-8859-1:1987", "8859",
                    "cp819", "l1", "latin", "iso-ir-100", "iso8859"})) {
    return encode_narrow(utf8, 0xFF);
  }
  if (one_of(name, {"ascii", "us-ascii", "646", "us"})) return encode_narrow(utf8, 0x7F);
  if (one_of(name, {"utf-16", "utf16", "u16"})) return encode_wide(utf8, 2, false, true);
  if (one_of(name, {"utf-16-le", "utf-16le"})) return encode_wide(utf8, 2, false, false);
  if (one_of(name, {"utf-16-be", "utf-16be"})) return encode_wide(utf8, 2, true, false);
  if (one_of(name, {"utf-32", "utf32", "u32"})) return encode_wide(utf8, 4, false, true);
  if (one_of(name, {"utf-32-le", "utf-32le"})) return encode_wide(utf8, 4, false, false);
  if (one_of(name, {"utf-32-be", "utf-32be"})) return encode_wide(utf8, 4, true, false);
  return std::nullopt;
}

std::string_view WireResponse::content_type_value() const noexcept {
  if (const std::string* header = find_header(headers, "Content-Type")) return *header;
  return content_type;
}

void WireResponse::add_header(std::string name, std::string value) {
  if (iequals(name, "Content-Type")) content_type = {};
  headers.emplace_back(std::move(name), std::move(value));
}

WireResponse to_wire(Response&& response, int default_status, const ContentDefaults& defaults) {
  WireResponse wire;
  wire.status = response.status ? response.status : default_status;
  if (response.reason) wire.reason = std::move(*response.reason);
  wire.headers = std::move(response.headers);
  const std::string* header = find_header(wire.headers, "Content-Type");
  const bool service_default = !header && !response.content_type && !response.charset;
  std::optional<std::string> charset_from_header;
  const std::string* charset = nullptr;
  if (header) {
    if (header->find(';') != std::string::npos) charset_from_header = charset_segment(*header);
    if (charset_from_header) charset = &*charset_from_header;
  } else if (service_default) {
    charset = &defaults.charset;
  } else if (response.charset) {
    charset = &*response.charset;
  }
  if (!response.body.empty() && !response.binary && charset) {
    auto encoded = encode_text(std::move(response.body), *charset);
    if (!encoded) {
      throw ResponseEncodingError("unable to encode the response body with charset '" + *charset +
                                  "'");
    }
    wire.body = std::move(*encoded);
  } else {
    wire.body = std::move(response.body);
  }
  if (service_default) {
    wire.content_type = defaults.header;
  } else if (!header) {
    std::string value = response.content_type ? std::move(*response.content_type) : defaults.mime;
    if (response.charset) value += "; charset=" + *response.charset;
    wire.headers.emplace_back("Content-Type", std::move(value));
  }
  return wire;
}

WireResponse status_response(int status, bool empty_body) {
  WireResponse wire;
  wire.status = status;
  if (!empty_body) wire.body = std::string(reason_phrase(status));
  wire.content_type = plain_text_utf8;
  return wire;
}

std::string_view reason_phrase(int status) noexcept {
  struct Phrase {
    int status;
    std::string_view text;
  };
  static constexpr Phrase phrases[] = {
      {100, "Continue"},
      {101, "Switching Protocols"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {203, "Non-Authoritative Information"},
      {204, "No Content"},
      {205, "Reset Content"},
      {206, "Partial Content"},
      {300, "Multiple Choices"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {303, "See Other"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {402, "Payment Required"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {406, "Not Acceptable"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {410, "Gone"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Request Entity Too Large"},
      {414, "Request-URI Too Long"},
      {415, "Unsupported Media Type"},
      {416, "Requested Range Not Satisfiable"},
      {417, "Expectation Failed"},
      {418, "I'm a teapot"},
      {422, "Unprocessable Entity"},
      {425, "Too Early"},
      {426, "Upgrade Required"},
      {428, "Precondition Required"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {451, "Unavailable For Legal Reasons"},
      {499, "Client Closed Request"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"},
  };
  const auto* it =
      std::lower_bound(std::begin(phrases), std::end(phrases), status,
                       [](const Phrase& phrase, int value) { return phrase.status < value; });
  return it != std::end(phrases) && it->status == status ? it->text : std::string_view();
}

std::string_view mime_type_for(std::string_view file_name) noexcept {
  auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos || file_name.find('/', dot) != std::string_view::npos) {
    return "application/octet-stream";
  }
  std::string_view ext = file_name.substr(dot + 1);
  static constexpr std::pair<std::string_view, std::string_view> table[] = {
      {"html", "text/html"},        {"htm", "text/html"},
      {"css", "text/css"},          {"js", "text/javascript"},
      {"mjs", "text/javascript"},   {"json", "application/json"},
      {"txt", "text/plain"},        {"csv", "text/csv"},
      {"md", "text/markdown"},      {"xml", "application/xml"},
      {"png", "image/png"},         {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},       {"gif", "image/gif"},
      {"svg", "image/svg+xml"},     {"ico", "image/vnd.microsoft.icon"},
      {"webp", "image/webp"},       {"avif", "image/avif"},
      {"pdf", "application/pdf"},   {"zip", "application/zip"},
      {"gz", "application/gzip"},   {"tar", "application/x-tar"},
      {"wasm", "application/wasm"}, {"woff", "font/woff"},
      {"woff2", "font/woff2"},      {"ttf", "font/ttf"},
      {"otf", "font/otf"},          {"mp3", "audio/mpeg"},
      {"wav", "audio/x-wav"},       {"mp4", "video/mp4"},
      {"webm", "video/webm"},       {"map", "application/json"},
      {"yaml", "application/yaml"}, {"yml", "application/yaml"}};
  for (auto [key, type] : table) {
    if (iequals(key, ext)) return type;
  }
  return "application/octet-stream";
}

std::string listen_url(std::string_view host, int port) {
  std::string shown;
  if (host.empty() || host == "0.0.0.0" || host == "127.0.0.1" || host == "::") {
    shown = "localhost";
  } else if (host.find(':') != std::string_view::npos) {
    shown = "[" + std::string(host) + "]";
  } else {
    shown = std::string(host);
  }
  return "http://" + shown + ":" + std::to_string(port) + "/";
}

}  // namespace tomodachi::http_impl
