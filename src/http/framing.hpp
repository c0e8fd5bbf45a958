#pragma once
// Socket-free HTTP/1.1 request framing (RFC 9112): bytes in, one request head/body out,
// or a rejection with the status to answer. Never consumes bytes past the current request.
// The rules it enforces are listed in docs/http.md ("Limits and protocol strictness");
// unit tests in tests/unit/http/framing_test.cpp, fuzz target tests/fuzz/http_framing_fuzzer.cpp.
#include <tomodachi/options.hpp>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tomodachi::http_impl {

using RequestMessage = boost::beast::http::request<boost::beast::http::string_body>;

struct FramingLimits {
  std::size_t max_request_line = 8190;   ///< http.max_request_line_size: longer -> 414
  std::size_t max_header_size = 16384;   ///< http.max_header_size: the header block -> 431
  std::uint64_t max_body = 1024 * 1024;  ///< http.client_max_size: larger -> 413
};

/// The limits of the `http.*` options, with `max_body` the session's parsed
/// `http.client_max_size` (parse_client_max_size). Throws OptionError for a
/// `max_request_line_size` below 64; `max_header_size` is taken as it is (the server
/// checks it).
FramingLimits framing_limits(const Options::Http& http, std::uint64_t max_body);

class RequestFramer {
 public:
  enum class State {
    head,      ///< reading the request line and header block
    body,      ///< head complete and valid; body bytes still expected
    done,      ///< one complete request in message()
    rejected,  ///< invalid: answer reject_status() and close; feed() consumes nothing more
  };

  explicit RequestFramer(FramingLimits limits = {});

  /// Consumes the bytes of the current request from `input` (never more) and returns how
  /// many. Bytes not consumed must be offered again, at the front of the next input (a
  /// flat_buffer's data() after consume(returned) does that). Complete lines of the head
  /// are consumed as they arrive, so a head split over reads is never scanned twice.
  /// Returns after the head is complete (state() becomes body or done) without touching
  /// body bytes, so the caller can decide (drain, Expect: 100-continue, route) before the
  /// body is read; call again to read the body. In state done or rejected it returns 0.
  std::size_t feed(std::string_view input);

  State state() const noexcept { return state_; }
  /// After `rejected`: 400, 413, 414, 431, 501 or 505; and a short reason for logs/tests.
  int reject_status() const noexcept { return reject_status_; }
  std::string_view reject_reason() const noexcept { return reject_reason_; }

  /// The head from state() == body on; head + complete body at done. Trailer fields are
  /// checked but not merged into it (RFC 9110 §6.5.1).
  RequestMessage& message() noexcept { return message_; }
  const RequestMessage& message() const noexcept { return message_; }
  /// The Content-Length the request declared (nullopt: none / chunked).
  std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
  bool chunked() const noexcept { return chunked_; }
  /// HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`.
  bool keep_alive() const noexcept { return keep_alive_; }
  /// Any byte of the current request seen (a timeout then logs 408); empty lines before
  /// the request line do not count.
  bool got_some() const noexcept { return got_some_; }
  /// Body bytes still expected (Content-Length or chunked) — "is the client still uploading".
  bool body_expected() const noexcept { return state_ == State::body; }

  /// Starts the next request on the connection. Precondition: state() == done.
  void next();

 private:
  enum class BodyStep { length, chunk_size, chunk_data, chunk_end, trailer };

  std::size_t feed_head(std::string_view input);
  std::size_t feed_body(std::string_view input);
  std::size_t feed_chunk_line(std::string_view input, std::size_t pos);
  std::size_t feed_trailer(std::string_view input, std::size_t pos);
  bool section_line(std::size_t length, bool found, bool crlf);
  bool request_line(std::string_view line);
  bool field_line(std::string_view line, bool trailer);
  void inspect_field(boost::beast::http::field name, std::string_view value);
  void finish_head();
  bool chunk_size_line(std::string_view line);
  void reject(int status, std::string_view reason) noexcept;

  FramingLimits limits_;
  State state_ = State::head;
  BodyStep step_ = BodyStep::length;
  int reject_status_ = 0;
  std::string_view reject_reason_;
  RequestMessage message_;
  std::optional<std::uint64_t> content_length_;
  bool chunked_ = false;
  bool keep_alive_ = false;
  bool got_some_ = false;

  // The head as it is read: request line seen, header bytes so far, and what the framing
  // rules need from the fields (decided once the head is complete).
  bool request_line_done_ = false;
  std::size_t empty_lines_ = 0;
  std::size_t section_bytes_ = 0;  ///< header (or trailer) section bytes so far
  unsigned host_lines_ = 0;
  bool host_invalid_ = false;
  unsigned length_lines_ = 0;
  bool length_invalid_ = false;
  std::uint64_t length_value_ = 0;
  unsigned coding_lines_ = 0;
  unsigned chunked_codings_ = 0;
  bool chunked_last_ = false;
  bool coding_other_ = false;
  bool coding_empty_ = false;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;

  // The body: bytes left of the Content-Length or of the current chunk.
  std::uint64_t remaining_ = 0;
  std::size_t extension_bytes_ = 0;
};

}  // namespace tomodachi::http_impl
