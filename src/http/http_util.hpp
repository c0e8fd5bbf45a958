#pragma once
// Pure pieces of the HTTP transport (no sockets): option validation, keep-alive rules,
// real-IP / CIDR, basic auth, charsets and response conversion, access-log fields.
// Unit-tested in tests/unit/http/.

#include <tomodachi/http.hpp>
#include <tomodachi/logging.hpp>
#include <tomodachi/options.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tomodachi::http_impl {

// ---- options -----------------------------------------------------------------------

/// `http.client_max_size` in bytes. Throws OptionError with the spec's texts
/// (`Too low value ...`, `Too high value ...`, `Bad value ...`).
std::int64_t parse_client_max_size(const std::variant<std::int64_t, std::string>& value);

struct KeepAliveConfig {
  KeepAliveConfig(int timeout_seconds = 0, int max_requests_per_connection = 0,
                  int max_seconds = 0);
  int timeout = 0;       ///< seconds; 0 = off
  int max_requests = 0;  ///< 0 = unlimited
  int max_time = 0;      ///< seconds; 0 = unlimited
  std::string header;    ///< `timeout=75, max=100`, formatted once
  bool enabled() const noexcept { return timeout > 0; }
};

/// Keep-alive options (`keepalive_timeout`, alias `keepalive_expiry`, `max_keepalive_*`).
/// Throws OptionError for the combinations spec/http.md §6 rejects.
KeepAliveConfig keepalive_config(const Options::Http& http);

struct KeepAliveDecision {
  bool keep_alive = false;
  std::string_view keep_alive_header;  ///< the config's `timeout=75, max=100` (empty when closing)
};

/// What one response says and does about its connection (the header view points into
/// `config`).
KeepAliveDecision decide_keep_alive(const KeepAliveConfig& config, bool client_wants_keep_alive,
                                    std::uint64_t requests_on_connection,
                                    std::chrono::steady_clock::duration connection_age,
                                    bool shutting_down);

// ---- addresses -----------------------------------------------------------------------

/// An IPv4/IPv6 network (bare addresses are /32 or /128).
struct IpNetwork {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};
  int prefix = 0;
};

/// Parses `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`. Throws OptionError
/// naming the value.
IpNetwork parse_ip_network(std::string_view text);
std::vector<IpNetwork> parse_ip_networks(const std::vector<std::string>& values);

/// True when `address` (text, IPv4-mapped IPv6 accepted for IPv4 networks) is inside one
/// of `networks`.
bool address_in_networks(std::string_view address, const std::vector<IpNetwork>& networks);

/// The client address of spec/http.md §3.1.
std::string real_ip(std::string_view peer, std::optional<std::string_view> header_value,
                    const std::vector<IpNetwork>& trusted);

/// The user of an `Authorization: Basic ...` header; "" when absent or undecodable.
std::string basic_auth_user(std::string_view authorization);

// ---- paths ---------------------------------------------------------------------------

/// Percent-decodes a path (invalid escapes are kept as they are, like yarl).
std::string percent_decode(std::string_view text);

// ---- forms ---------------------------------------------------------------------------

/// Parses a form body by its `Content-Type`: urlencoded (`+` and `%xx` decoded) or
/// multipart/form-data (boundary from the header). nullopt for a malformed multipart body;
/// an empty list for other content types.
std::optional<std::vector<FormField>> parse_form(std::string_view content_type,
                                                 std::string_view body);

// ---- responses -----------------------------------------------------------------------

/// The service defaults of spec/http.md §5.
struct ContentDefaults {
  ContentDefaults(std::string mime_type = "text/plain", std::string default_charset = "utf-8");
  std::string mime;
  std::string charset;
  std::string header;  ///< `<mime>; charset=<charset>`, formatted once per service
};
ContentDefaults content_defaults(std::string_view content_type, std::string_view charset);

/// Text (UTF-8) encoded with `charset` (case-insensitive; utf-8, latin-1 and its
/// aliases, ascii, utf-16/-le/-be, utf-32/-le/-be); nullopt when the charset is unknown or
/// a character cannot be encoded. UTF-8 text is moved through unchanged.
std::optional<std::string> encode_text(std::string utf8, std::string_view charset);

/// A response ready for the wire (status, headers, body bytes).
struct WireResponse {
  int status = 200;
  std::string reason;  ///< empty: standard phrase
  Headers headers;
  /// The Content-Type when `headers` has none: the service default or a constant, so the
  /// common response allocates no header (the viewed string outlives the response).
  std::string_view content_type;
  std::string body;

  /// The Content-Type sent (from `headers`, else `content_type`).
  std::string_view content_type_value() const noexcept;
  /// Adds a header; a `Content-Type` replaces `content_type`.
  void add_header(std::string name, std::string value);
};

/// Error converting a handler result (unknown charset, unencodable text).
class ResponseEncodingError : public tomodachi::Error {
 public:
  using tomodachi::Error::Error;
};

/// Applies spec/http.md §4/§5 to a handler result. `default_status` is 200, or the
/// status of the error handler. Throws ResponseEncodingError.
WireResponse to_wire(Response&& response, int default_status, const ContentDefaults& defaults);

/// The plain-text response of a status without error handler: body = reason phrase
/// (empty for 500 when `empty_500`), `text/plain; charset=utf-8`.
WireResponse status_response(int status, bool empty_body = false);

/// `text/plain; charset=utf-8`: the content type of status and protocol-error responses.
inline constexpr std::string_view plain_text_utf8 = "text/plain; charset=utf-8";

/// `Not Found`, `Method Not Allowed`, ... ("" when unknown).
std::string_view reason_phrase(int status) noexcept;

/// Case-insensitive header lookup.
const std::string* find_header(const Headers& headers, std::string_view name) noexcept;
bool iequals(std::string_view a, std::string_view b) noexcept;

/// MIME type from a file name's extension (`image/png`), `application/octet-stream`
/// when unknown.
std::string_view mime_type_for(std::string_view file_name) noexcept;

/// `http://localhost:9700/` style listen URL (spec §6).
std::string listen_url(std::string_view host, int port);

}  // namespace tomodachi::http_impl
