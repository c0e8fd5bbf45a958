// RFC 9112 request framing without a socket (see framing.hpp). The head is read line by
// line in place (memchr for the LF, one table lookup per byte); complete lines are
// consumed as they arrive, so nothing is scanned twice and nothing is copied but the
// method, target and fields into the Beast message. Framing decisions (Host,
// Transfer-Encoding, Content-Length) are taken once the head is complete.
#include "http/framing.hpp"

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <string>

namespace tomodachi::http_impl {

namespace {

namespace bhttp = boost::beast::http;

// ---- character classes (RFC 9110 §5.6.2, §5.5; RFC 3986 §3.2.2) ----------------------

enum : std::uint8_t {
  tchar = 1,        ///< token character
  field_char = 2,   ///< field-value: VCHAR, SP, HTAB, obs-text
  target_char = 4,  ///< request-target: VCHAR and obs-text (no SP, no CTL)
  host_char = 8,    ///< reg-name: unreserved and sub-delims
  hex_char = 16,
  qd_char = 32,  ///< qdtext of a quoted-string
};

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> table{};
  auto add = [&](std::string_view chars, std::uint8_t cls) {
    for (char c : chars) table[static_cast<unsigned char>(c)] |= cls;
  };
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha || digit) table[c] |= tchar | host_char;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) table[c] |= hex_char;
    if ((c >= 0x21 && c <= 0x7e) || c >= 0x80) table[c] |= field_char | target_char | qd_char;
  }
  add(" \t", field_char | qd_char);
  add("!#$%&'*+-.^_`|~", tchar);
  add("-._~!$&'()*+,;=", host_char);
  table['"'] &= static_cast<std::uint8_t>(~qd_char);
  table['\\'] &= static_cast<std::uint8_t>(~qd_char);
  return table;
}

constexpr std::array<std::uint8_t, 256> classes = make_classes();

bool has(char c, std::uint8_t cls) noexcept { return classes[static_cast<unsigned char>(c)] & cls; }

bool all_of(std::string_view text, std::uint8_t cls) noexcept {
  return std::all_of(text.begin(), text.end(), [cls](char c) { return has(c, cls); });
}

/// Takes the non-empty part of `rest` before its first space, all of class `cls`, and the
/// space; nullopt when there is none such.
std::optional<std::string_view> take_part(std::string_view& rest, std::uint8_t cls) noexcept {
  const std::size_t space = rest.find(' ');
  const std::string_view part = rest.substr(0, space);
  if (space == std::string_view::npos || part.empty() || !all_of(part, cls)) return std::nullopt;
  rest.remove_prefix(space + 1);
  return part;
}

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view text) noexcept {
  while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] + 32) : a[i];
    if (x != b[i]) return false;  // b is lower case
  }
  return true;
}

/// Calls `f` with each element of a comma-separated list, OWS trimmed (empty ones too).
template <typename F>
void for_each_element(std::string_view list, F&& f) {
  for (;;) {
    const std::size_t comma = list.find(',');
    f(trim_ows(list.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

/// 1*DIGIT without sign or spaces; nullopt when malformed or above 2^64 - 1.
std::optional<std::uint64_t> parse_decimal(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

unsigned hex_value(char c) noexcept {
  if (c <= '9') return static_cast<unsigned>(c - '0');
  return static_cast<unsigned>((c | 0x20) - 'a' + 10);
}

std::size_t hex_prefix(std::string_view text) noexcept {
  std::size_t n = 0;
  while (n < text.size() && has(text[n], hex_char)) ++n;
  return n;
}

// ---- Host (RFC 9112 §3.2, RFC 3986 §3.2.2) ------------------------------------------------

bool valid_reg_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%') {
      if (i + 2 >= name.size() || !has(name[i + 1], hex_char) || !has(name[i + 2], hex_char))
        return false;
      i += 2;
    } else if (!has(name[i], host_char)) {
      return false;
    }
  }
  return true;
}

bool valid_ip_literal(std::string_view literal) noexcept {
  if (literal.empty()) return false;
  if (literal.front() == 'v' || literal.front() == 'V') {  // IPvFuture
    const std::size_t digits = hex_prefix(literal.substr(1));
    const std::string_view rest = literal.substr(1 + digits);
    if (digits == 0 || rest.size() < 2 || rest.front() != '.') return false;
    return std::all_of(rest.begin() + 1, rest.end(),
                       [](char c) { return c == ':' || (has(c, host_char) && c != '%'); });
  }
  return literal.find(':') != std::string_view::npos &&
         std::all_of(literal.begin(), literal.end(),
                     [](char c) { return c == ':' || c == '.' || has(c, hex_char); });
}

bool valid_port(std::string_view port) noexcept {
  if (port.empty()) return true;  // `host:` is allowed by the grammar (port = *DIGIT)
  if (port.size() > 5) return false;
  const auto value = parse_decimal(port);
  return value && *value <= 65535;
}

bool valid_host(std::string_view host) noexcept {
  if (host.empty()) return true;  // RFC 9112 §3.2: empty when the target has no authority
  if (host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos || !valid_ip_literal(host.substr(1, close - 1)))
      return false;
    const std::string_view rest = host.substr(close + 1);
    if (rest.empty()) return true;
    return rest.front() == ':' && valid_port(rest.substr(1));
  }
  const std::size_t colon = host.find(':');
  if (!valid_reg_name(host.substr(0, colon))) return false;
  return colon == std::string_view::npos || valid_port(host.substr(colon + 1));
}

// ---- chunk extensions (RFC 9112 §7.1.1) ----------------------------------------------------

/// `*( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )`, nothing else.
bool valid_chunk_extensions(std::string_view text) noexcept {
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto bws = [&] {
    while (i < n && is_ows(text[i])) ++i;
  };
  auto token = [&] {
    const std::size_t start = i;
    while (i < n && has(text[i], tchar)) ++i;
    return i > start;
  };
  auto quoted = [&] {  // text[i] == '"'
    for (++i; i < n; ++i) {
      if (text[i] == '"') {
        ++i;
        return true;
      }
      if (text[i] == '\\') {
        if (++i == n || !has(text[i], field_char)) return false;
      } else if (!has(text[i], qd_char)) {
        return false;
      }
    }
    return false;
  };
  while (i < n) {
    bws();
    if (i == n || text[i] != ';') return false;
    ++i;
    bws();
    if (!token()) return false;
    const std::size_t after_name = i;
    bws();
    if (i < n && text[i] == '=') {
      ++i;
      bws();
      if (!(i < n && text[i] == '"' ? quoted() : token())) return false;
    } else {
      i = after_name;
    }
  }
  return true;
}

/// One line of `input` from `pos`: its text without CRLF, whether it ended in CRLF (not a
/// bare LF), and where the next line starts. `found` false: no LF yet; then `text` is
/// what there is so far, a trailing CR (which may start the CRLF) left out.
struct Line {
  bool found = false;
  bool crlf = false;
  std::string_view text;
  std::size_t next = 0;
};

Line next_line(std::string_view input, std::size_t pos) noexcept {
  Line line;
  const std::string_view rest = input.substr(pos);
  const void* lf = rest.empty() ? nullptr : std::memchr(rest.data(), '\n', rest.size());
  if (lf == nullptr) {
    line.text = rest;
    if (!rest.empty() && rest.back() == '\r') line.text.remove_suffix(1);
    return line;
  }
  const auto length = static_cast<std::size_t>(static_cast<const char*>(lf) - rest.data());
  line.found = true;
  line.text = rest.substr(0, length);
  line.crlf = !line.text.empty() && line.text.back() == '\r';
  if (line.crlf) line.text.remove_suffix(1);
  line.next = pos + length + 1;
  return line;
}

}  // namespace

FramingLimits framing_limits(const Options::Http& http, std::uint64_t max_body) {
  if (http.max_request_line_size < 64) {
    throw OptionError("Too low value for http option max_request_line_size: " +
                      std::to_string(http.max_request_line_size));
  }
  FramingLimits limits;
  limits.max_request_line = static_cast<std::size_t>(http.max_request_line_size);
  limits.max_header_size = static_cast<std::size_t>(std::max(0, http.max_header_size));
  limits.max_body = max_body;
  return limits;
}

RequestFramer::RequestFramer(FramingLimits limits) : limits_(limits) {}

void RequestFramer::next() {
  const FramingLimits limits = limits_;
  *this = RequestFramer(limits);
}

void RequestFramer::reject(int status, std::string_view reason) noexcept {
  state_ = State::rejected;
  reject_status_ = status;
  reject_reason_ = reason;
}

std::size_t RequestFramer::feed(std::string_view input) {
  if (state_ == State::head) return feed_head(input);
  if (state_ == State::body) return feed_body(input);
  return 0;
}

// ---- head -------------------------------------------------------------------------------

/// A header or trailer section line (`length` without CRLF; unfinished when !found):
/// counted against max_header_size, CRLF required. False: rejected, or more bytes needed.
bool RequestFramer::section_line(std::size_t length, bool found, bool crlf) {
  if (section_bytes_ + length + 2 > limits_.max_header_size) {
    reject(431, "header section too large");
    return false;
  }
  if (!found) return false;
  section_bytes_ += length + 2;
  if (!crlf) {
    reject(400, "bare LF");
    return false;
  }
  return true;
}

std::size_t RequestFramer::feed_head(std::string_view input) {
  std::size_t pos = 0;
  while (state_ == State::head) {
    const Line line = next_line(input, pos);
    if (!request_line_done_) {
      if (line.found && line.text.empty()) {  // empty lines before the request line (§2.2)
        empty_lines_ += 2;
        if (!line.crlf || empty_lines_ > limits_.max_request_line) {
          reject(400, line.crlf ? "too many empty lines" : "bare LF");
          break;
        }
        pos = line.next;
        continue;
      }
      if (!line.text.empty()) got_some_ = true;
      if (line.text.size() > limits_.max_request_line) {
        reject(414, "request line too long");
        break;
      }
      if (!line.found) break;
      if (!line.crlf) {
        reject(400, "bare LF");
        break;
      }
      if (!request_line(line.text)) break;
      request_line_done_ = true;
    } else {
      if (!section_line(line.text.size(), line.found, line.crlf)) break;
      if (line.text.empty()) {
        pos = line.next;
        finish_head();
        break;
      }
      if (!field_line(line.text, false)) break;
    }
    pos = line.next;
  }
  return pos;
}

bool RequestFramer::request_line(std::string_view line) {
  // method SP request-target SP HTTP-version (RFC 9112 §3), single spaces.
  std::string_view version = line;
  const auto method = take_part(version, tchar);
  if (!method) {
    reject(400, "bad method");
    return false;
  }
  const auto target = take_part(version, target_char);
  if (!target) {
    reject(400, "bad request target");
    return false;
  }
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !digit(version[5]) ||
      version[6] != '.' || !digit(version[7])) {
    reject(400, "bad HTTP version");
    return false;
  }
  if (version[5] != '1') {  // HTTP/0.9, HTTP/2.0, ...: not on this wire (as nginx)
    reject(505, "HTTP version not supported");
    return false;
  }
  message_.method_string(*method);
  message_.target(*target);
  // A higher 1.x minor is served as 1.1 (RFC 9110 §6.2), as nginx does.
  message_.version(version[7] == '0' ? 10 : 11);
  return true;
}

bool RequestFramer::field_line(std::string_view line, bool trailer) {
  // field-name ":" OWS field-value OWS (RFC 9112 §5); no obs-fold (§5.2), no space before ':'.
  std::size_t colon = 0;
  while (colon < line.size() && has(line[colon], tchar)) ++colon;
  if (colon == 0 || colon == line.size() || line[colon] != ':') {
    reject(400, is_ows(line.front()) ? "obs-fold or whitespace before a field" : "bad field name");
    return false;
  }
  const std::string_view raw_value = line.substr(colon + 1);
  if (!all_of(raw_value, field_char)) {
    reject(400, "control character in a field value");
    return false;
  }
  if (trailer) return true;  // checked, not merged into the head (RFC 9110 §6.5.1)
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = trim_ows(raw_value);
  const bhttp::field known = bhttp::string_to_field(name);
  message_.insert(known, name, value);
  inspect_field(known, value);
  return true;
}

void RequestFramer::inspect_field(bhttp::field name, std::string_view value) {
  switch (name) {
    case bhttp::field::host:
      ++host_lines_;
      host_invalid_ = host_invalid_ || !valid_host(value);
      break;
    case bhttp::field::content_length:
      ++length_lines_;
      if (auto length = parse_decimal(value)) {
        length_value_ = *length;
      } else {
        length_invalid_ = true;  // a list (`5, 5`), a sign, a space, an overflow
      }
      break;
    case bhttp::field::transfer_encoding:
      ++coding_lines_;  // all lines form one list (RFC 9110 §5.3)
      for_each_element(value, [this](std::string_view coding) {
        if (coding.empty()) {
          coding_empty_ = true;
        } else if (iequals(coding, "chunked")) {
          ++chunked_codings_;
          chunked_last_ = true;
        } else {
          coding_other_ = true;
          chunked_last_ = false;
        }
      });
      break;
    case bhttp::field::connection:
      for_each_element(value, [this](std::string_view option) {
        connection_close_ = connection_close_ || iequals(option, "close");
        connection_keep_alive_ = connection_keep_alive_ || iequals(option, "keep-alive");
      });
      break;
    default:
      break;
  }
}

void RequestFramer::finish_head() {
  const bool http11 = message_.version() == 11;
  if (http11 && host_lines_ == 0) return reject(400, "missing Host");
  if (host_lines_ > 1) return reject(400, "more than one Host");
  if (host_invalid_) return reject(400, "invalid Host");
  if (coding_lines_ > 0) {
    // RFC 9112 §6.1, §6.3: only `chunked`, once, last; never with Content-Length or in 1.0.
    if (length_lines_ > 0) return reject(400, "Transfer-Encoding with Content-Length");
    if (!http11) return reject(400, "Transfer-Encoding in HTTP/1.0");
    if (coding_empty_) return reject(400, "empty transfer coding");
    if (chunked_codings_ > 1) return reject(400, "chunked more than once");
    if (chunked_codings_ == 1 && !chunked_last_) return reject(400, "chunked not last");
    if (coding_other_) return reject(501, "transfer coding not implemented");
    chunked_ = true;
  } else if (length_lines_ > 0) {
    if (length_lines_ > 1) return reject(400, "more than one Content-Length");
    if (length_invalid_) return reject(400, "invalid Content-Length");
    if (length_value_ > limits_.max_body) return reject(413, "Content-Length over the limit");
    content_length_ = length_value_;
  }
  keep_alive_ = !connection_close_ && (http11 || connection_keep_alive_);
  section_bytes_ = 0;
  if (chunked_) {
    state_ = State::body;
    step_ = BodyStep::chunk_size;
  } else if (content_length_.value_or(0) > 0) {
    state_ = State::body;
    step_ = BodyStep::length;
    remaining_ = *content_length_;
    // Not all of it up front: a declared length is not yet a sent body.
    message_.body().reserve(static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, 65536)));
  } else {
    state_ = State::done;
  }
}

// ---- body -------------------------------------------------------------------------------

std::size_t RequestFramer::feed_body(std::string_view input) {
  std::size_t pos = 0;
  while (state_ == State::body) {
    std::size_t next = pos;
    switch (step_) {
      case BodyStep::length:
      case BodyStep::chunk_data: {
        const auto n =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - pos));
        message_.body().append(input.data() + pos, n);
        remaining_ -= n;
        next = pos + n;
        if (remaining_ == 0) {
          if (step_ == BodyStep::length) {
            state_ = State::done;
          } else {
            step_ = BodyStep::chunk_end;
          }
        }
        break;
      }
      case BodyStep::chunk_end:  // CRLF after the chunk data, nothing else
        if (pos < input.size() && input[pos] != '\r') {
          reject(400, "chunk data not followed by CRLF");
        } else if (pos + 1 < input.size()) {
          if (input[pos + 1] != '\n') {
            reject(400, "chunk data not followed by CRLF");
          } else {
            next = pos + 2;
            step_ = BodyStep::chunk_size;
          }
        }
        break;
      case BodyStep::chunk_size:
        next = feed_chunk_line(input, pos);
        break;
      case BodyStep::trailer:
        next = feed_trailer(input, pos);
        break;
    }
    if (next == pos && state_ == State::body) break;  // needs more bytes
    pos = next;
  }
  return pos;
}

std::size_t RequestFramer::feed_chunk_line(std::string_view input, std::size_t pos) {
  const Line line = next_line(input, pos);
  // One chunk line, and the extensions of all of a request's chunks, within max_header_size.
  const std::size_t extensions = line.text.size() - hex_prefix(line.text);
  if (line.text.size() > limits_.max_header_size ||
      extension_bytes_ + extensions > limits_.max_header_size) {
    reject(400, "chunk extensions too long");
    return pos;
  }
  if (!line.found) return pos;
  if (!line.crlf) {
    reject(400, "bare LF in the chunked body");
    return pos;
  }
  if (!chunk_size_line(line.text)) return pos;
  extension_bytes_ += extensions;
  return line.next;
}

bool RequestFramer::chunk_size_line(std::string_view line) {
  const std::size_t digits = hex_prefix(line);
  std::uint64_t size = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    if (size > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
      reject(400, "chunk size overflow");
      return false;
    }
    size = (size << 4) | hex_value(line[i]);
  }
  if (digits == 0 || !valid_chunk_extensions(line.substr(digits))) {
    reject(400, "bad chunk size line");
    return false;
  }
  if (size == 0) {
    step_ = BodyStep::trailer;
    return true;
  }
  if (size > limits_.max_body - message_.body().size()) {
    reject(413, "chunked body over the limit");
    return false;
  }
  remaining_ = size;
  step_ = BodyStep::chunk_data;
  return true;
}

std::size_t RequestFramer::feed_trailer(std::string_view input, std::size_t pos) {
  const Line line = next_line(input, pos);
  if (!section_line(line.text.size(), line.found, line.crlf)) return pos;
  if (line.text.empty()) {
    state_ = State::done;
  } else if (!field_line(line.text, true)) {
    return pos;
  }
  return line.next;
}

}  // namespace tomodachi::http_impl
