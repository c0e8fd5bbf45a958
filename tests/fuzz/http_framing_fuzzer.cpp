// libFuzzer target: the socket-free HTTP/1.1 request framer (src/http/framing.hpp).
// Input: byte 0 picks how the rest is split into reads, byte 1 the limits, the rest is
// what a client sends on one connection. The bytes are framed twice, offered whole and in
// pieces, and both runs must deliver the same requests and end the same way. Asserted for
// every delivered request, from its raw bytes and fields (not from the framer's flags):
// exactly one framing (no Transfer-Encoding with Content-Length; Transfer-Encoding only
// `chunked`, HTTP/1.1 only); Host once in HTTP/1.1, at most once otherwise, and valid-looking;
// the body equals the Content-Length bytes or the decoded chunks. After a rejection nothing
// more is consumed and nothing delivered; consumed bytes never exceed the input.
// Built with clang-14 by scripts/fuzz.sh (tests/fuzz/clang); the checked-in corpus is
// replayed by ctest (fuzz.http_framing.replay) with the GCC build.
#include "http/framing.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using tomodachi::http_impl::FramingLimits;
using tomodachi::http_impl::RequestFramer;
using State = RequestFramer::State;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "http_framing_fuzzer: %s\n", what);
    std::abort();
  }
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// A reference decoder of a whole chunked body (RFC 9112 §7.1), written apart from the
// framer: size, extensions up to CRLF, data, CRLF; last chunk, trailer lines, CRLF.
std::optional<std::string> dechunk(std::string_view raw) {
  std::string out;
  std::size_t pos = 0;
  auto line = [&]() -> std::optional<std::string_view> {
    const std::size_t end = raw.find("\r\n", pos);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view text = raw.substr(pos, end - pos);
    pos = end + 2;
    return text;
  };
  for (;;) {
    auto size_line = line();
    if (!size_line) return std::nullopt;
    std::uint64_t size = 0;
    std::size_t digits = 0;
    for (char c : *size_line) {
      int value = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (value < 0) break;
      if (size >> 60) return std::nullopt;
      size = size * 16 + static_cast<std::uint64_t>(value);
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    if (size == 0) break;
    if (raw.size() - pos < size + 2) return std::nullopt;
    out.append(raw.substr(pos, size));
    pos += size;
    if (raw.substr(pos, 2) != "\r\n") return std::nullopt;
    pos += 2;
  }
  for (;;) {  // trailer section
    auto trailer = line();
    if (!trailer) return std::nullopt;
    if (trailer->empty()) break;
  }
  if (pos != raw.size()) return std::nullopt;
  return out;
}

struct Delivered {
  std::string method, target, body;
  unsigned version = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  bool keep_alive = false;
  bool operator==(const Delivered&) const = default;
};

// Checks a delivered request against its raw bytes: head = raw[0, head_size).
Delivered check_delivered(RequestFramer& framer, std::string_view raw, std::size_t head_size) {
  auto& message = framer.message();
  Delivered out{std::string(message.method_string()),
                std::string(message.target()),
                message.body(),
                message.version(),
                {},
                framer.keep_alive()};
  const std::string_view head = raw.substr(0, head_size);
  const std::string_view body = raw.substr(head_size);
  check(head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n", "head ends in CRLF CRLF");
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n') check(i > 0 && head[i - 1] == '\r', "bare LF in a delivered head");
    if (head[i] == '\r') check(i + 1 < head.size() && head[i + 1] == '\n', "bare CR in a head");
  }
  check(out.version == 10 || out.version == 11, "version 1.0 or 1.1");
  check(!out.method.empty() && !out.target.empty(), "method and target");
  for (char c : out.target) check(c != ' ' && static_cast<unsigned char>(c) > 0x20, "target");
  unsigned hosts = 0, codings = 0, lengths = 0;
  std::string_view coding, length;
  for (const auto& field : message) {
    const std::string_view name = field.name_string();
    const std::string_view value = field.value();
    out.fields.emplace_back(std::string(name), std::string(value));
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      check(u >= 0x20 ? u != 0x7f : u == '\t', "control character in a delivered value");
    }
    if (iequal(name, "host")) {
      ++hosts;
      check(value.find_first_of(" @/?#\\") == std::string_view::npos, "Host value");
    } else if (iequal(name, "transfer-encoding")) {
      ++codings;
      coding = value;
    } else if (iequal(name, "content-length")) {
      ++lengths;
      length = value;
    }
  }
  check(out.version == 11 ? hosts == 1 : hosts <= 1, "Host rules");
  check(codings == 0 || lengths == 0, "Transfer-Encoding with Content-Length delivered");
  check(lengths <= 1, "one Content-Length");
  if (codings > 0) {
    check(codings == 1 && iequal(trim(coding), "chunked"), "Transfer-Encoding other than chunked");
    check(out.version == 11, "Transfer-Encoding in HTTP/1.0");
    check(framer.chunked() && !framer.content_length(), "chunked framing reported");
    const auto decoded = dechunk(body);
    check(decoded.has_value() && *decoded == out.body, "body equals the decoded chunks");
  } else if (lengths > 0) {
    check(!length.empty() && length.find_first_not_of("0123456789") == std::string_view::npos,
          "Content-Length digits only");
    check(framer.content_length() == out.body.size(), "Content-Length reported");
    check(std::stoull(std::string(length)) == out.body.size(), "body length equals Content-Length");
    check(body == out.body, "body bytes are the bytes after the head");
  } else {
    check(body.empty() && out.body.empty(), "no framing, no body");
  }
  return out;
}

struct Outcome {
  std::vector<Delivered> requests;
  State state = State::head;
  int status = 0;
  bool operator==(const Outcome&) const = default;
};

// Frames `bytes` offered in pieces of the sizes `piece()` returns.
template <typename Piece>
Outcome frame(std::string_view bytes, const FramingLimits& limits, Piece&& piece) {
  RequestFramer framer(limits);
  Outcome out;
  std::string pending;
  std::size_t offered = 0, consumed = 0, request_start = 0, head_end = 0;
  for (;;) {
    for (;;) {
      const State before = framer.state();
      const std::size_t used = framer.feed(pending);
      check(used <= pending.size(), "consumed more than the input");
      pending.erase(0, used);
      consumed += used;
      check(consumed <= offered, "consumed more than offered");
      if (before == State::head && framer.state() != State::head) head_end = consumed;
      if (framer.state() == State::done) {
        out.requests.push_back(
            check_delivered(framer, bytes.substr(request_start, consumed - request_start),
                            head_end - request_start));
        framer.next();
        request_start = consumed;
        continue;
      }
      if (framer.state() == State::rejected) {
        const int status = framer.reject_status();
        check(status == 400 || status == 413 || status == 414 || status == 431 || status == 501 ||
                  status == 505,
              "reject status");
        check(!framer.reject_reason().empty(), "reject reason");
        check(framer.feed(pending) == 0, "feed after a rejection consumed bytes");
        check(framer.feed(bytes.substr(offered)) == 0, "feed after a rejection consumed bytes");
        check(framer.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n") == 0, "a rejection is final");
        check(framer.state() == State::rejected, "a rejection stays");
        out.state = State::rejected;
        out.status = status;
        return out;
      }
      if (used == 0 && framer.state() == before) break;
    }
    if (offered == bytes.size()) break;
    const std::size_t n = std::min(piece(), bytes.size() - offered);
    pending.append(bytes.substr(offered, n));
    offered += n;
  }
  out.state = framer.state();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const unsigned split = data[0];
  FramingLimits limits;
  if (data[1] & 1) {  // small limits reach every limit with short inputs
    limits.max_request_line = 64;
    limits.max_header_size = 128;
    limits.max_body = 64;
  }
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  const Outcome whole = frame(bytes, limits, [&] { return bytes.size(); });
  std::uint32_t state = split * 2654435761u + 1;
  const Outcome pieces = frame(bytes, limits, [&]() -> std::size_t {
    if (split == 0) return 1;
    state = state * 1664525u + 1013904223u;
    return 1 + (state >> 16) % (1 + split % 64);
  });
  check(whole == pieces, "the same bytes split differently frame differently");
  return 0;
}
