// RequestFramer (src/http/framing.hpp): RFC 9112 request framing, socket-free. Every case
// runs twice, the bytes offered at once and one byte at a time, and both must agree.
#include "http/framing.hpp"

#include <gtest/gtest.h>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

using namespace tomodachi;
using namespace tomodachi::http_impl;
using namespace std::string_literals;
using State = RequestFramer::State;

namespace {

struct Outcome {
  State state = State::head;
  int status = 0;
  std::string reason;
  std::size_t consumed = 0;  ///< bytes the framer took
  std::string rest;          ///< bytes it did not take (the next request's, or a rejected one's)
  std::string method, target, body;
  unsigned version = 0;
  bool keep_alive = false;
};

// Offers `bytes` in pieces of `step` as a session does (unconsumed bytes again at the
// front), feeding until the request is done or rejected or the bytes are all offered.
Outcome frame_in_steps(std::string_view bytes, FramingLimits limits, std::size_t step) {
  RequestFramer framer(limits);
  std::string pending;
  std::size_t offered = 0;
  Outcome out;
  for (;;) {
    for (;;) {
      const State before = framer.state();
      const std::size_t used = framer.feed(pending);
      EXPECT_LE(used, pending.size());
      pending.erase(0, used);
      out.consumed += used;
      if (framer.state() == State::done || framer.state() == State::rejected) break;
      if (used == 0 && framer.state() == before) break;
    }
    if (framer.state() == State::done || framer.state() == State::rejected) break;
    if (offered == bytes.size()) break;
    const std::size_t n = std::min(step, bytes.size() - offered);
    pending.append(bytes.substr(offered, n));
    offered += n;
  }
  if (framer.state() == State::rejected) {
    EXPECT_EQ(framer.feed(pending), 0u);
  }
  out.state = framer.state();
  out.status = framer.reject_status();
  out.reason = std::string(framer.reject_reason());
  out.rest = pending + std::string(bytes.substr(offered));
  auto& message = framer.message();
  out.method = std::string(message.method_string());
  out.target = std::string(message.target());
  out.version = message.version();
  out.body = message.body();
  out.keep_alive = framer.keep_alive();
  return out;
}

Outcome frame(std::string_view bytes, FramingLimits limits = {}) {
  Outcome whole = frame_in_steps(bytes, limits, bytes.size() + 1);
  Outcome bytewise = frame_in_steps(bytes, limits, 1);
  EXPECT_EQ(whole.state, bytewise.state) << bytes;
  EXPECT_EQ(whole.status, bytewise.status) << bytes;
  EXPECT_EQ(whole.body, bytewise.body) << bytes;
  if (whole.state == State::done) {
    EXPECT_EQ(whole.consumed, bytewise.consumed) << bytes;
  }
  return whole;
}

int status_of(std::string_view bytes, FramingLimits limits = {}) {
  Outcome out = frame(bytes, limits);
  if (out.state == State::done) return 200;
  if (out.state == State::rejected) return out.status;
  return 0;  // still waiting for bytes
}

std::string post(std::string_view fields, std::string_view body = "") {
  return "POST /p HTTP/1.1\r\nHost: h\r\n"s + std::string(fields) + "\r\n" + std::string(body);
}

constexpr std::string_view smuggled = "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n";

}  // namespace

// ---- request line -------------------------------------------------------------------

TEST(Framing, SimpleGetFillsTheBeastMessage) {
  const std::string bytes =
      "GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nX-One: 1\r\nx-one: 2\r\nAccept:  */* \r\n\r\n";
  RequestFramer framer;
  EXPECT_FALSE(framer.got_some());
  EXPECT_EQ(framer.feed(bytes), bytes.size());  // the whole head in one feed
  ASSERT_EQ(framer.state(), State::done);
  auto& message = framer.message();
  EXPECT_EQ(message.method(), boost::beast::http::verb::get);
  EXPECT_EQ(message.method_string(), "GET");
  EXPECT_EQ(message.target(), "/a/b?c=d");
  EXPECT_EQ(message.version(), 11u);
  EXPECT_EQ(message[boost::beast::http::field::host], "example.com");
  EXPECT_EQ(message["accept"], "*/*");  // OWS around the value trimmed
  std::vector<std::string> order;
  for (const auto& field : message)
    order.push_back(std::string(field.name_string()) + "=" + std::string(field.value()));
  EXPECT_EQ(order,
            (std::vector<std::string>{"Host=example.com", "X-One=1", "x-one=2", "Accept=*/*"}));
  EXPECT_TRUE(framer.got_some());
  EXPECT_FALSE(framer.body_expected());
  EXPECT_FALSE(framer.chunked());
  EXPECT_EQ(framer.content_length(), std::nullopt);
  EXPECT_EQ(framer.feed("GET / HTTP/1.1\r\n"), 0u);  // done: nothing more until next()
}

TEST(Framing, ExtensionMethodAndHttp10) {
  Outcome out = frame("PURGE /x HTTP/1.0\r\n\r\n");
  ASSERT_EQ(out.state, State::done);
  EXPECT_EQ(out.method, "PURGE");
  EXPECT_EQ(out.version, 10u);
}

TEST(Framing, MalformedRequestLineIs400) {
  for (std::string line :
       {"GET  / HTTP/1.1", "GET / HTTP/1.1 ", " GET / HTTP/1.1", "GET /", "GET / ",
        "G@T / HTTP/1.1", "GET /a\x01 HTTP/1.1", "GET /a\x7f HTTP/1.1", "GET / http/1.1",
        "GET / HTTP/1.10", "GET / HTTP/11", "GET / HTTP/1.", "GET\t/ HTTP/1.1", "GET / HTTP/1.1\r",
        "/ HTTP/1.1", "GET / HTTP/1.1 extra", "GET  HTTP/1.1"}) {
    EXPECT_EQ(status_of(line + "\r\nHost: h\r\n\r\n"), 400) << line;
  }
}

TEST(Framing, UnsupportedVersionsAre505AndHigherMinorsAre11) {
  EXPECT_EQ(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(status_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
  EXPECT_EQ(status_of("GET / HTTP/3.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(status_of("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505);
  Outcome out = frame("GET / HTTP/1.2\r\nHost: h\r\n\r\n");  // RFC 9110 §6.2, as nginx
  ASSERT_EQ(out.state, State::done);
  EXPECT_EQ(out.version, 11u);
}

TEST(Framing, RequestLineLimitIs414) {
  FramingLimits limits;
  limits.max_request_line = 100;
  const std::string fits = "GET /" + std::string(100 - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(fits.size(), 100u);
  EXPECT_EQ(status_of(fits + "\r\nHost: h\r\n\r\n", limits), 200);
  const std::string too_long = "GET /" + std::string(100 - 13, 'a') + " HTTP/1.1";
  EXPECT_EQ(status_of(too_long + "\r\nHost: h\r\n\r\n", limits), 414);
  // An unfinished line is cut as soon as it is over the limit, not at the header timeout.
  EXPECT_EQ(status_of("GET /" + std::string(200, 'a'), limits), 414);
  EXPECT_EQ(status_of("GET /" + std::string(95, 'a') + "\r", limits), 0);  // still waiting
  // Default 8190 (aiohttp's max_line_size): a 9 KiB request line is refused.
  EXPECT_EQ(status_of("GET /" + std::string(9 * 1024, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n"), 414);
}

TEST(Framing, HeaderBlockLimitIs431) {
  FramingLimits limits;
  limits.max_header_size = 64;
  // Field lines + their CRLFs + the final CRLF, without the request line: exactly 64 fits.
  const std::string field = "X: " + std::string(64 - 2 - 3 - 2 - 9, 'v') + "\r\n";
  const std::string fits = "GET /" + std::string(500, 'p') + " HTTP/1.1\r\nHost: h\r\n" + field;
  EXPECT_EQ(status_of(fits + "\r\n", limits), 200);
  EXPECT_EQ(status_of(fits + "Y: 1\r\n\r\n", limits), 431);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nX: " + std::string(100, 'v'), limits), 431);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\n" + std::string(20000, 'X')), 431);
}

TEST(Framing, EmptyLinesBeforeTheRequestLineAreIgnored) {
  Outcome out = frame("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(out.state, State::done);
  EXPECT_EQ(out.target, "/");
  RequestFramer framer;
  EXPECT_EQ(framer.feed("\r\n"), 2u);
  EXPECT_FALSE(framer.got_some());  // a keep-alive client's extra CRLF is no request yet
  EXPECT_EQ(status_of("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  EXPECT_EQ(status_of(std::string(100, '\r') + "\n"), 400);
}

// ---- header fields ------------------------------------------------------------------

TEST(Framing, HeaderSyntaxIs400) {
  for (std::string field : std::initializer_list<std::string>{
           "Bad Name: x", "X-A : x", "X-A\t: x", ": x", "X(A): x", "X-A x", "X-A: a\x01z",
           "X-A: a\0z"s, "X-A: a\x7fz", "X-A: a\rz", "X-A:\r\n folded", "\tX-A: x",
           "X-A:"
           "\xff\r"}) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\n" + field + "\r\n\r\n"), 400) << field;
  }
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n folded: x\r\nHost: h\r\n\r\n"), 400);  // after the line
}

TEST(Framing, ObsTextAndTabsInValuesAreKept) {
  RequestFramer framer;
  framer.feed("GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\xc3\xa9\tb\r\nX-Empty:\r\n\r\n");
  ASSERT_EQ(framer.state(), State::done);
  EXPECT_EQ(framer.message()["X-A"], "caf\xc3\xa9\tb");
  EXPECT_EQ(framer.message()["X-Empty"], "");
}

TEST(Framing, BareLfInTheHeadIs400AtOnce) {
  RequestFramer framer;
  EXPECT_EQ(framer.feed("GET / HTTP/1.1\nHost: h\n\n"), 0u);
  EXPECT_EQ(framer.state(), State::rejected);
  EXPECT_EQ(framer.reject_status(), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\n\n"), 400);
}

// ---- Host (RFC 9112 §3.2) -------------------------------------------------------------

TEST(Framing, HostIsRequiredOnceAndValid) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET http://h/ HTTP/1.1\r\n\r\n"), 400);  // absolute form too
  EXPECT_EQ(status_of("GET / HTTP/1.0\r\n\r\n"), 200);          // 1.0: optional
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
  for (std::string host : {"a b", "user@evil", "user@evil:80", "a:b", "a:99999", "a:-1", "[::1",
                           "[::1]x", "[zz]", "a%zz", "a/b", "a\\b", "a:80:80", "a?b"}) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), 400) << host;
    EXPECT_EQ(status_of("GET / HTTP/1.0\r\nHost: " + host + "\r\n\r\n"), 400) << host;
  }
  for (std::string host :
       {"", "a", "example.com.", "a:80", "a:", "127.0.0.1:9700", "[::1]", "[::1]:8080",
        "xn--caf-dma.example", "a%20b", "a,b", "a_b~c!$&'()*+;="}) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n"), 200) << host;
  }
}

// ---- Transfer-Encoding (RFC 9112 §6.1, §6.3): defect 1 ---------------------------------

TEST(Framing, OnlyTheSingleCodingChunkedIsAccepted) {
  const std::string chunked_body = "5\r\nhello\r\n0\r\n\r\n";
  for (std::string coding :
       {"chunked", "CHUNKED", "Chunked", "chunked ", " chunked", "\tchunked\t"}) {
    Outcome out = frame(post("Transfer-Encoding: " + coding + "\r\n", chunked_body));
    EXPECT_EQ(out.state, State::done) << coding;
    EXPECT_EQ(out.body, "hello") << coding;
  }
  for (std::string coding : {"xchunked", "chunkedx", "gzip", "identity", "gzip, chunked",
                             "deflate,chunked", "chunked;q=1", "chun ked", "\"chunked\""}) {
    EXPECT_EQ(status_of(post("Transfer-Encoding: " + coding + "\r\n", chunked_body)), 501)
        << coding;
  }
  for (std::string coding :
       {"chunked, gzip", "chunked, chunked", "chunked,chunked", "chunked, identity", "chunked,",
        ",chunked", "", " ", "chunked, , gzip"}) {
    EXPECT_EQ(status_of(post("Transfer-Encoding: " + coding + "\r\n", chunked_body)), 400)
        << coding;
  }
}

TEST(Framing, TransferEncodingLinesAreJoinedIntoOneList) {
  const std::string body = "5\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", body)),
            400);
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\ntransfer-encoding: gzip\r\n", body)),
            400);
  EXPECT_EQ(status_of(post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", body)),
            501);
}

TEST(Framing, TransferEncodingWithContentLengthIs400) {
  const std::string body = "5\r\nhello\r\n0\r\n\r\n";
  EXPECT_EQ(status_of(post("Transfer-Encoding: chunked\r\nContent-Length: 15\r\n", body)), 400);
  EXPECT_EQ(status_of(post("Content-Length: 15\r\nTransfer-Encoding: chunked\r\n", body)), 400);
  // identity + Content-Length: 0 + a request in the body (the smuggling case).
  Outcome out = frame(post("Transfer-Encoding: identity\r\nContent-Length: 0\r\n", smuggled));
  EXPECT_EQ(out.state, State::rejected);
  EXPECT_EQ(out.status, 400);
  EXPECT_NE(out.rest.find("GET /admin"), std::string::npos);  // never read as a request
}

TEST(Framing, TransferEncodingInHttp10Is400) {
  EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
}

TEST(Framing, RejectedRequestConsumesNothingMore) {
  const std::string bytes = post("Transfer-Encoding: xchunked\r\n", smuggled);
  RequestFramer framer;
  const std::size_t used = framer.feed(bytes);
  ASSERT_EQ(framer.state(), State::rejected);
  EXPECT_EQ(framer.reject_status(), 501);
  EXPECT_FALSE(framer.reject_reason().empty());
  EXPECT_EQ(bytes.substr(used), std::string(smuggled));
  EXPECT_EQ(framer.feed(bytes.substr(used)), 0u);
  EXPECT_EQ(framer.feed(smuggled), 0u);
  EXPECT_EQ(framer.state(), State::rejected);
}

// ---- Content-Length --------------------------------------------------------------------

TEST(Framing, ContentLengthBody) {
  const std::string bytes = post("Content-Length: 5\r\n", "hello") + std::string(smuggled);
  RequestFramer framer;
  const std::size_t head = framer.feed(bytes);
  ASSERT_EQ(framer.state(), State::body);  // the head alone: the body is left for the caller
  EXPECT_EQ(bytes.substr(head, 5), "hello");
  EXPECT_TRUE(framer.body_expected());
  EXPECT_EQ(framer.content_length(), 5u);
  EXPECT_TRUE(framer.message().body().empty());
  EXPECT_EQ(framer.feed(std::string_view(bytes).substr(head, 2)), 2u);
  EXPECT_EQ(framer.feed(std::string_view(bytes).substr(head + 2)), 3u);  // never past the body
  ASSERT_EQ(framer.state(), State::done);
  EXPECT_EQ(framer.message().body(), "hello");
  EXPECT_FALSE(framer.body_expected());
  // The next request on the connection.
  framer.next();
  EXPECT_EQ(framer.state(), State::head);
  EXPECT_FALSE(framer.got_some());
  EXPECT_EQ(framer.feed(smuggled), smuggled.size());
  ASSERT_EQ(framer.state(), State::done);
  EXPECT_EQ(framer.message().target(), "/admin");
  EXPECT_TRUE(framer.message().body().empty());
  EXPECT_EQ(framer.content_length(), std::nullopt);
  EXPECT_EQ(framer.message().count(boost::beast::http::field::content_length), 0u);
}

TEST(Framing, ContentLengthMustBeOneNumber) {
  EXPECT_EQ(status_of(post("Content-Length: 0\r\n")), 200);
  EXPECT_EQ(status_of(post("Content-Length: 005\r\n", "hello")), 200);
  for (std::string value : {"5, 5", "5,5", "5 5", "+5", "-1", "0x5", "5.0", "", "five", "1e3",
                            "99999999999999999999999", "18446744073709551616"}) {
    EXPECT_EQ(status_of(post("Content-Length: " + value + "\r\n", "hello")), 400) << value;
  }
  EXPECT_EQ(status_of(post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello")), 400);
  EXPECT_EQ(status_of(post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!")), 400);
}

TEST(Framing, ContentLengthOverTheBodyLimitIs413AtHeadTime) {
  FramingLimits limits;
  limits.max_body = 10;
  EXPECT_EQ(status_of(post("Content-Length: 10\r\n", "0123456789"), limits), 200);
  const std::string bytes = post("Content-Length: 11\r\n", "01234567890");
  RequestFramer framer(limits);
  const std::size_t used = framer.feed(bytes);
  EXPECT_EQ(framer.state(), State::rejected);
  EXPECT_EQ(framer.reject_status(), 413);
  EXPECT_EQ(bytes.substr(used), "01234567890");  // no body byte read
  EXPECT_EQ(status_of(post("Content-Length: 18446744073709551615\r\n"), limits), 413);
}

// ---- chunked body (defect 3) --------------------------------------------------------------

TEST(Framing, ChunkedBodyIsDecoded) {
  const std::string bytes = post("Transfer-Encoding: chunked\r\n",
                                 "5\r\nhello\r\n1;a=b\r\n \r\nA\r\n0123456789\r\n"
                                 "0000000006 ; name = \"q \\\" v\" ;x\r\nworld!\r\n0\r\n\r\n") +
                            std::string(smuggled);
  Outcome out = frame(bytes);
  ASSERT_EQ(out.state, State::done);
  EXPECT_EQ(out.body, "hello 0123456789world!");
  EXPECT_EQ(out.rest, std::string(smuggled));
  RequestFramer framer;
  framer.feed(bytes);
  EXPECT_TRUE(framer.chunked());
  EXPECT_TRUE(framer.body_expected());
  EXPECT_EQ(framer.content_length(), std::nullopt);
}

TEST(Framing, ChunkedBareLfIs400AtOnce) {
  const std::string head = post("Transfer-Encoding: chunked\r\n");
  RequestFramer framer;
  ASSERT_EQ(framer.feed(head), head.size());
  EXPECT_EQ(framer.feed("5\nhello\n0\n\n"), 0u);
  EXPECT_EQ(framer.state(), State::rejected);  // never waits for more
  EXPECT_EQ(framer.reject_status(), 400);
  EXPECT_EQ(status_of(head + "5\r\nhello\n0\r\n\r\n"), 400);
  EXPECT_EQ(status_of(head + "5\r\nhello\r\n0\n\r\n"), 400);
  EXPECT_EQ(status_of(head + "5\r\nhello\r\n0\r\n\n"), 400);
  EXPECT_EQ(status_of(head + "5\r\nhello\r\n0\r\nX: y\n\r\n"), 400);
}

TEST(Framing, ChunkSyntaxIs400) {
  const std::string head = post("Transfer-Encoding: chunked\r\n");
  for (std::string chunk :
       {"g\r\n", "\r\n", "5 \r\nhello\r\n", " 5\r\nhello\r\n", "-5\r\n", "0x5\r\nhello\r\n",
        "5\r\nhelloX\r\n", "5\r\nhello\rX", "5;\r\nhello\r\n", "5;a=\r\nhello\r\n",
        "5;a=\"x\r\nhello\r\n", "5;a b\r\nhello\r\n", "5;a=b c\r\nhello\r\n", "5\x01\r\nhello\r\n",
        "fffffffffffffffff\r\n", "10000000000000000\r\n"}) {
    EXPECT_EQ(status_of(head + chunk + "0\r\n\r\n"), 400) << chunk;
  }
}

TEST(Framing, ChunkedLimits) {
  FramingLimits limits;
  limits.max_body = 10;
  limits.max_header_size = 64;
  const std::string head = post("Transfer-Encoding: chunked\r\n");
  EXPECT_EQ(status_of(head + "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", limits), 200);
  EXPECT_EQ(status_of(head + "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", limits), 413);
  EXPECT_EQ(status_of(head + "ffffffffffffffff\r\n", limits), 413);  // before its data
  // Chunk extensions: bounded (one line, and all of a request's, by max_header_size).
  EXPECT_EQ(status_of(head + "1;" + std::string(100, 'e') + "\r\nx\r\n0\r\n\r\n", limits), 400);
  EXPECT_EQ(status_of(head + "1;" + std::string(200, 'e'), limits), 400);  // unfinished too
  std::string many;
  for (int i = 0; i < 10; ++i) many += "1;eeeeeeeee\r\nx\r\n";
  EXPECT_EQ(status_of(head + many + "0\r\n\r\n", limits), 400);
}

TEST(Framing, TrailersAreCheckedBoundedAndNotMerged) {
  FramingLimits limits;
  limits.max_header_size = 64;
  const std::string head = post("Transfer-Encoding: chunked\r\n");
  RequestFramer framer(limits);
  const std::string bytes = head + "0\r\nX-Checksum: abc\r\nHost: evil\r\n\r\n";
  framer.feed(bytes);
  framer.feed(std::string_view(bytes).substr(head.size()));
  ASSERT_EQ(framer.state(), State::done);
  EXPECT_EQ(framer.message().count("X-Checksum"), 0u);
  EXPECT_EQ(framer.message()[boost::beast::http::field::host], "h");
  EXPECT_EQ(status_of(head + "0\r\nBad Name: x\r\n\r\n", limits), 400);
  EXPECT_EQ(status_of(head + "0\r\nX: a\x01\r\n\r\n", limits), 400);
  EXPECT_EQ(status_of(head + "0\r\nX: " + std::string(100, 'v') + "\r\n\r\n", limits), 431);
  EXPECT_EQ(status_of(head + "0\r\nX: " + std::string(100, 'v'), limits), 431);
}

// ---- keep-alive ----------------------------------------------------------------------------

TEST(Framing, KeepAlive) {
  EXPECT_TRUE(frame("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
  EXPECT_FALSE(frame("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_FALSE(
      frame("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, CLOSE\r\n\r\n").keep_alive);
  EXPECT_FALSE(
      frame("GET / HTTP/1.1\r\nHost: h\r\nConnection: x\r\nConnection: Close\r\n\r\n").keep_alive);
  EXPECT_TRUE(frame("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n").keep_alive);
  EXPECT_TRUE(frame("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n").keep_alive);
  EXPECT_FALSE(frame("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(frame("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
  EXPECT_TRUE(frame("GET / HTTP/1.0\r\nConnection: te ,keep-alive\r\n\r\n").keep_alive);
  EXPECT_FALSE(frame("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
}

TEST(Framing, GotSomeAndPipelining) {
  RequestFramer framer;
  EXPECT_EQ(framer.feed("GET / HT"), 0u);  // an unfinished line is left in the buffer
  EXPECT_TRUE(framer.got_some());
  EXPECT_EQ(framer.state(), State::head);
  // Complete lines of an unfinished head are taken (never scanned again), the rest is left.
  EXPECT_EQ(framer.feed("GET / HTTP/1.1\r\nHost: h\r\nX-Lo"), 25u);
  EXPECT_EQ(framer.state(), State::head);
  EXPECT_EQ(framer.feed("X-Long: 1\r\n\r"), 11u);
  EXPECT_EQ(framer.feed("\r\n"), 2u);
  ASSERT_EQ(framer.state(), State::done);
  EXPECT_EQ(framer.message()["X-Long"], "1");
  const std::string two =
      "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  RequestFramer pipelined;
  const std::size_t first = pipelined.feed(two);
  ASSERT_EQ(pipelined.state(), State::done);
  EXPECT_EQ(pipelined.message().target(), "/1");
  EXPECT_TRUE(pipelined.keep_alive());
  pipelined.next();
  EXPECT_EQ(pipelined.feed(std::string_view(two).substr(first)), two.size() - first);
  ASSERT_EQ(pipelined.state(), State::done);
  EXPECT_EQ(pipelined.message().target(), "/2");
  EXPECT_FALSE(pipelined.keep_alive());
  EXPECT_EQ(pipelined.message().count(boost::beast::http::field::host), 1u);
}

// ---- options ---------------------------------------------------------------------------------

TEST(Framing, MaxRequestLineSizeOption) {
  Options options;
  EXPECT_EQ(options.http.max_request_line_size, 8190);
  options.set("http.max_request_line_size", boost::json::value(4096));
  EXPECT_EQ(options.http.max_request_line_size, 4096);
  options.http.max_header_size = 2048;
  FramingLimits limits = framing_limits(options.http, 2048);
  EXPECT_EQ(limits.max_request_line, 4096u);
  EXPECT_EQ(limits.max_header_size, 2048u);
  EXPECT_EQ(limits.max_body, 2048u);
  options.http.max_request_line_size = 63;
  EXPECT_THROW(framing_limits(options.http, 2048), tomodachi::OptionError);
  EXPECT_THROW(options.set("http.max_request_line_size", boost::json::value("big")), OptionError);
}
