"""The raw-byte HTTP/1.1 request corpus of http_corpus_test.py (issue #11).

Written for this project from the rules of RFC 9110/9112 and the kinds of input that
public parser suites (llhttp's request tests, http-garden) and request-smuggling
write-ups (CL.TE, TE.CL, TE.TE obfuscation) exercise; no case text is copied.

A case is the bytes a client sends on one connection (often a first request followed by
a second, "smuggled" one), what our server must answer and what happens to the
connection afterwards:

  expect   one slot per final answer, in order. A slot is a status, or a tuple of the
           statuses the RFC leaves to the implementation; None in a tuple means "no answer
           here" (the connection closed). More answers than slots is a failure.
  ran      optional, one entry per slot: "METHOD PATH BODYLEN" the handler must have seen
           when that answer is a 200 from the handler (None: not checked).
  outcome  "keep": the connection stays open and a further request is answered;
           "close": the server closes after its answers; "auto": close when the last
           answer is an error other than 404/405, keep otherwise; "any": not checked.
  interim  None (not checked) or the list of 1xx statuses that must be seen.
  shut     half-close the client side after sending (the server sees EOF).

With keep-alive off only the first slot is checked and the outcome is always "close".
The statuses follow issue #11: 501 for a transfer coding we do not decode, 400 for the
other framing ambiguities (every rejection closes), 414/431/413 for the limits.
Where the RFC lets a recipient either reject or repair a field line (obs-fold, NUL or a
bare CR in a value: RFC 9112 §5.2, RFC 9110 §5.5) the corpus requires the rejection: a
repaired line frames differently from a front-end that does not repair it, which is the
TE.TE obfuscation (te-obs-fold-into-other-header shows it). Duplicate or listed
Content-Length values are rejected even when equal (RFC 9110 §8.6 allows either; nginx
rejects them, and a front-end taking the first of two lines would disagree with us).
"""

# The routes answer "ran METHOD PATH BODYLEN"; these paths make a smuggled request visible.
H = b"Host: x\r\n"
SMUG = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
CLIENT_MAX_SIZE = 65536  # client_max_size of the corpus service and client_max_body_size of nginx


class Wait:
    """A segment marker: read until an answer head arrives (at most `timeout` s), then go on."""

    def __init__(self, timeout=1.5):
        self.timeout = timeout


class Pause:
    """A segment marker: sleep between two sends (a request split over several reads)."""

    def __init__(self, seconds):
        self.seconds = seconds


class Case:
    def __init__(self, group, name, data, expect, outcome="auto", ran=None, interim=None, shut=False):
        self.group = group
        self.name = name
        self.segments = data if isinstance(data, list) else [data]
        self.expect = [slot if isinstance(slot, tuple) else (slot,) for slot in expect]
        self.outcome = outcome
        self.ran = ran
        self.interim = interim
        self.shut = shut


CASES = []


def case(group, name, data, expect, **kwargs):
    CASES.append(Case(group, name, data, expect, **kwargs))


def post(headers, body=b"", target=b"/a", method=b"POST", version=b"HTTP/1.1"):
    """A request with `headers` (bytes, each line ending in CRLF) before the blank line."""
    return method + b" " + target + b" " + version + b"\r\n" + headers + b"\r\n" + body


def get(target=b"/a", headers=H, version=b"HTTP/1.1"):
    return b"GET " + target + b" " + version + b"\r\n" + headers + b"\r\n"


def chunked(body, te=b"chunked", extra=b""):
    return post(H + b"Transfer-Encoding: " + te + b"\r\n" + extra, body)


HELLO = b"5\r\nhello\r\n0\r\n\r\n"
EITHER = (200, 400)  # the RFC lets the implementation accept or reject

# ---- Transfer-Encoding ---------------------------------------------------------------
for name, te in (("te-chunked", b"chunked"), ("te-chunked-upper", b"CHUNKED"), ("te-chunked-mixed", b"ChUnKeD"),
                 ("te-chunked-trailing-space", b"chunked "), ("te-chunked-trailing-tab", b"chunked\t"),
                 ("te-chunked-wide-ows", b"   chunked   ")):
    case("te", name, chunked(HELLO, te), [200], ran=["POST /a 5"])
case("te", "te-no-ows", post(H + b"Transfer-Encoding:chunked\r\n", HELLO), [200], ran=["POST /a 5"])
case("te", "te-lowercase-name", post(H + b"transfer-encoding: chunked\r\n", HELLO), [200], ran=["POST /a 5"])
case("te", "te-upper-name", post(H + b"TRANSFER-ENCODING: chunked\r\n", HELLO), [200], ran=["POST /a 5"])
case("te", "te-get-with-chunked-body", post(H + b"Transfer-Encoding: chunked\r\n", HELLO, method=b"GET"), [200],
     ran=["GET /a 5"])
case("te", "te-chunked-then-pipelined", chunked(b"0\r\n\r\n" + SMUG), [200, 200], outcome="keep",
     ran=["POST /a 0", "GET /smuggled 0"])
# unknown codings, or known ones we do not decode: 501, and the body is never a request
for name, te in (("te-xchunked", b"xchunked"), ("te-chunkedx", b"chunkedx"), ("te-identity", b"identity"),
                 ("te-gzip", b"gzip"), ("te-deflate", b"deflate"), ("te-compress", b"compress"),
                 ("te-cow", b"cow"), ("te-quoted-chunked", b'"chunked"'), ("te-gzip-chunked", b"gzip, chunked"),
                 ("te-identity-chunked", b"identity, chunked"), ("te-deflate-chunked-nospace", b"deflate,chunked")):
    case("te", name, chunked(SMUG, te), [501], outcome="close")
case("te", "te-gzip-chunked-chunked-body", chunked(HELLO + SMUG, b"gzip, chunked"), [501], outcome="close")
# chunked not last, or twice: 400
for name, te in (("te-chunked-gzip", b"chunked, gzip"), ("te-chunked-identity", b"chunked, identity"),
                 ("te-chunked-chunked", b"chunked, chunked"), ("te-chunked-chunked-nospace", b"chunked,chunked"),
                 ("te-chunked-chunked-ows", b"chunked ,  chunked"), ("te-upper-chunked-chunked", b"CHUNKED, chunked"),
                 ("te-chunked-x3", b"chunked, chunked, chunked"), ("te-chunked-xchunked", b"chunked, xchunked")):
    case("te", name, chunked(HELLO + SMUG, te), [400], outcome="close")
# several Transfer-Encoding lines are one list (RFC 9110 §5.3)
for name, first, second, status in (("te-lines-chunked-chunked", b"chunked", b"chunked", 400),
                                    ("te-lines-chunked-identity", b"chunked", b"identity", 400),
                                    ("te-lines-chunked-gzip", b"chunked", b"gzip", 400),
                                    ("te-lines-gzip-chunked", b"gzip", b"chunked", 501),
                                    ("te-lines-identity-chunked", b"identity", b"chunked", 501),
                                    ("te-lines-chunked-x-lowercase-name", b"chunked", b"x", 400)):
    headers = H + b"Transfer-Encoding: " + first + b"\r\n" + (
        b"transfer-encoding: " if name.endswith("lowercase-name") else b"Transfer-Encoding: ") + second + b"\r\n"
    case("te", name, post(headers, HELLO + SMUG), [status], outcome="close")
# empty list elements, parameters and odd whitespace: rejected either way, never framed
for name, te in (("te-trailing-comma", b"chunked,"), ("te-leading-comma", b", chunked"), ("te-empty", b""),
                 ("te-param", b"chunked;q=1"), ("te-vertical-tab", b"\x0bchunked"), ("te-form-feed", b"chunked\x0c")):
    case("te", name, chunked(HELLO + SMUG, te), [(400, 501)], outcome="close")
# Transfer-Encoding with Content-Length: 400 whatever the coding (RFC 9112 §6.1, §6.3)
case("te", "te-cl-classic-clte", post(H + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n",
                                      b"0\r\n\r\nG" + SMUG), [400], outcome="close")
case("te", "te-cl-classic-tecl", post(H + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
                                      b"2a\r\n" + SMUG + b"xxxxxx\r\n0\r\n\r\n"), [400], outcome="close")
case("te", "te-cl-zero", post(H + b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", HELLO + SMUG), [400],
     outcome="close")
case("te", "te-identity-cl-zero-request-in-body",
     post(H + b"Transfer-Encoding: identity\r\nContent-Length: 0\r\n", SMUG), [400], outcome="close")
case("te", "te-xchunked-cl", post(H + b"Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n", b"hello" + SMUG),
     [400], outcome="close")
case("te", "te-cl-over-limit", post(H + b"Transfer-Encoding: chunked\r\nContent-Length: 100000\r\n", HELLO),
     [(400, 413)], outcome="close")
case("te", "te-cl-dup", post(H + b"Content-Length: 5\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                             b"hello"), [400], outcome="close")
# Transfer-Encoding in HTTP/1.0: 400 (RFC 9112 §6.1)
case("te", "te-http10-chunked", post(b"Transfer-Encoding: chunked\r\n", HELLO, version=b"HTTP/1.0"), [400],
     outcome="close")
case("te", "te-http10-keepalive-chunked",
     post(b"Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n", HELLO + SMUG, version=b"HTTP/1.0"), [400],
     outcome="close")
case("te", "te-http10-xchunked", post(H + b"Transfer-Encoding: xchunked\r\n", SMUG, version=b"HTTP/1.0"),
     [(400, 501)], outcome="close")
case("te", "te-http10-chunked-cl",
     post(H + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"hello", version=b"HTTP/1.0"), [400],
     outcome="close")
# header-syntax obfuscations of the Transfer-Encoding line
case("te", "te-space-before-colon", post(H + b"Transfer-Encoding : chunked\r\n", HELLO + SMUG), [400],
     outcome="close")
case("te", "te-tab-before-colon", post(H + b"Transfer-Encoding\t: chunked\r\n", HELLO + SMUG), [400],
     outcome="close")
case("te", "te-space-before-colon-with-cl",
     post(H + b"Content-Length: 5\r\nTransfer-Encoding : chunked\r\n", b"0\r\n\r\n" + SMUG), [400], outcome="close")
case("te", "te-leading-space-first-line",
     b"POST /a HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: x\r\n\r\n" + HELLO + SMUG, [400], outcome="close")
case("te", "te-obs-fold-value", post(H + b"Transfer-Encoding:\r\n chunked\r\n", HELLO), [400], outcome="close")
case("te", "te-obs-fold-into-other-header", post(H + b"X-A: a\r\n Transfer-Encoding: chunked\r\n", HELLO), [400],
     outcome="close")
case("te", "te-bare-cr-separator", post(H + b"X-A: a\rTransfer-Encoding: chunked\r\n", HELLO), [400],
     outcome="close")
case("te", "te-bare-lf-separator", post(H + b"X-A: a\nTransfer-Encoding: chunked\r\n", HELLO), [EITHER],
     ran=["POST /a 5"])
case("te", "te-nul-after-value", post(H + b"Transfer-Encoding: chunked\x00\r\n", HELLO + SMUG), [400],
     outcome="close")
case("te", "te-underscore-name", post(H + b"Transfer_Encoding: chunked\r\n", b"0\r\n\r\n"), [200, 400],
     ran=["POST /a 0", None])
case("te", "te-unicode-dash-name", post(H + b"Transfer\xe2\x80\x93Encoding: chunked\r\n", b"0\r\n\r\n"),
     [EITHER, (400, None)], ran=["POST /a 0", None])
case("te", "te-xchunked-no-body-then-request", chunked(b"", b"xchunked") + get(b"/smuggled"), [501],
     outcome="close")

# ---- Content-Length ------------------------------------------------------------------
def cl(value, body=b"hello"):
    return post(H + b"Content-Length: " + value + b"\r\n", body)


case("cl", "cl-valid", cl(b"5"), [200], ran=["POST /a 5"])
case("cl", "cl-zero", cl(b"0", b""), [200], ran=["POST /a 0"])
case("cl", "cl-pipelined", cl(b"5", b"hello" + SMUG), [200, 200], outcome="keep",
     ran=["POST /a 5", "GET /smuggled 0"])
case("cl", "cl-body-is-a-request", cl(str(len(SMUG)).encode(), SMUG), [200], outcome="keep",
     ran=["POST /a %d" % len(SMUG)])
case("cl", "cl-get-with-body", post(H + b"Content-Length: 5\r\n", b"hello", method=b"GET"), [200],
     ran=["GET /a 5"])
case("cl", "cl-leading-zeros", cl(b"005"), [200], ran=["POST /a 5"])
case("cl", "cl-many-leading-zeros", cl(b"0000000000000000000005"), [EITHER], ran=["POST /a 5"])
case("cl", "cl-ows", cl(b"   5   "), [200], ran=["POST /a 5"])
case("cl", "cl-tab-ows", cl(b"\t5\t"), [200], ran=["POST /a 5"])
case("cl", "cl-http10", post(b"Content-Length: 5\r\n", b"hello", version=b"HTTP/1.0"), [200], outcome="close",
     ran=["POST /a 5"])
for name, value in (("cl-plus", b"+5"), ("cl-minus", b"-5"), ("cl-minus-zero", b"-0"), ("cl-hex", b"0x5"),
                    ("cl-hex-letter", b"a"), ("cl-space-inside", b"5 5"), ("cl-trailing-junk", b"5a"),
                    ("cl-decimal", b"5.0"), ("cl-exponent", b"5e0"), ("cl-empty", b""), ("cl-comma-only", b","),
                    ("cl-list-same", b"5, 5"), ("cl-list-same-nospace", b"5,5"), ("cl-list-different", b"5, 6"),
                    ("cl-fullwidth-digit", "\uff15".encode()), ("cl-negative-big", b"-18446744073709551615"),
                    ("cl-quoted", b'"5"')):
    case("cl", name, cl(value, b"hello" + SMUG), [400], outcome="close")
for name, value in (("cl-overflow-2pow64", b"18446744073709551616"), ("cl-max-u64", b"18446744073709551615"),
                    ("cl-overflow-i64", b"9223372036854775808"), ("cl-overflow-huge", b"9" * 40)):
    case("cl", name, cl(value, b"hello" + SMUG), [(400, 413)], outcome="close")
case("cl", "cl-duplicate-same", post(H + b"Content-Length: 5\r\nContent-Length: 5\r\n", b"hello" + SMUG), [400],
     outcome="close")
case("cl", "cl-duplicate-different", post(H + b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello" + SMUG),
     [400], outcome="close")
case("cl", "cl-duplicate-one-empty", post(H + b"Content-Length: 5\r\nContent-Length:\r\n", b"hello" + SMUG),
     [400], outcome="close")
case("cl", "cl-space-before-colon", post(H + b"Content-Length : 5\r\n", b"hello" + SMUG), [400], outcome="close")
case("cl", "cl-obs-fold-second-number", post(H + b"Content-Length: 5\r\n 5\r\n", b"hello" + SMUG), [400],
     outcome="close")
case("cl", "cl-obs-fold-value", post(H + b"Content-Length:\r\n 5\r\n", b"hello" + SMUG), [400], outcome="close")
case("cl", "cl-nul-after-value", post(H + b"Content-Length: 5\x00\r\n", b"hello" + SMUG), [400], outcome="close")
case("cl", "cl-underscore-name", post(H + b"Content_Length: %d\r\n" % len(SMUG), SMUG), [200, 200], outcome="keep",
     ran=["POST /a 0", "GET /smuggled 0"])
case("cl", "cl-over-limit", cl(str(CLIENT_MAX_SIZE + 1).encode(), b"x" * 100), [413], outcome="close")
case("cl", "cl-at-limit", cl(str(CLIENT_MAX_SIZE).encode(), b"x" * CLIENT_MAX_SIZE), [200],
     ran=["POST /a %d" % CLIENT_MAX_SIZE])
case("cl", "cl-short-body-then-eof", cl(b"10"), [(None, 400)], outcome="close", shut=True)
case("cl", "cl-body-then-garbage", cl(b"5", b"helloXYZ\r\n\r\n"), [200, 400], outcome="close")

# ---- Host (RFC 9112 §3.2) ------------------------------------------------------------
def host(value, version=b"HTTP/1.1"):
    return get(b"/a", b"Host: " + value + b"\r\n", version)


case("host", "host-missing-11", get(b"/a", b""), [400], outcome="close")
case("host", "host-missing-11-post", post(b"Content-Length: 5\r\n", b"hello"), [400], outcome="close")
case("host", "host-missing-11-then-request", get(b"/a", b"") + get(b"/smuggled"), [400], outcome="close")
case("host", "host-two-same", get(b"/a", b"Host: x\r\nHost: x\r\n"), [400], outcome="close")
case("host", "host-two-different", get(b"/a", b"Host: x\r\nHost: evil\r\n"), [400], outcome="close")
case("host", "host-two-name-case", get(b"/a", b"Host: x\r\nhost: evil\r\n"), [400], outcome="close")
case("host", "host-two-one-empty", get(b"/a", b"Host: x\r\nHost:\r\n"), [400], outcome="close")
case("host", "host-http10-two", get(b"/a", b"Host: x\r\nHost: evil\r\n", b"HTTP/1.0"), [400], outcome="close")
for name, value in (("host-space", b"a b"), ("host-userinfo", b"user@evil"), ("host-userinfo-password", b"u:p@evil"),
                    ("host-userinfo-empty", b"@evil"), ("host-port-alpha", b"x:abc"),
                    ("host-port-userinfo", b"x:80@evil"),
                    ("host-ipv6-unclosed", b"[::1"), ("host-slash", b"x/y"), ("host-hash", b"x#y"),
                    ("host-question", b"x?y"), ("host-comma-list", b"x, y"), ("host-tab-inside", b"x\ty"),
                    ("host-backslash", b"x\\y"), ("host-quote", b'"x"'), ("host-angle", b"<x>"),
                    ("host-bad-percent", b"x%zz"), ("host-nul", b"x\x00")):
    case("host", name, host(value), [400], outcome="close")
case("host", "host-obs-fold", get(b"/a", b"Host: x\r\n y\r\n"), [400], outcome="close")
for name, value in (("host-port", b"x:8080"), ("host-ipv6", b"[::1]:80"), ("host-ipv4", b"127.0.0.1"),
                    ("host-trailing-dot", b"x."), ("host-underscore", b"my_host"),
                    ("host-long", b"a" * 250 + b".example"),
                    ("host-wide-ows", b"    x    ")):
    case("host", name, host(value), [200], ran=["GET /a 0"])
case("host", "host-empty-value", host(b""), [EITHER], ran=["GET /a 0"])
case("host", "host-port-empty", host(b"x:"), [EITHER], ran=["GET /a 0"])
case("host", "host-percent-encoded", host(b"ex%41mple"), [EITHER], ran=["GET /a 0"])
case("host", "host-http10-missing", get(b"/a", b"", b"HTTP/1.0"), [200], outcome="close", ran=["GET /a 0"])
case("host", "host-absolute-form-overrides-host", b"GET http://x/a HTTP/1.1\r\nHost: other\r\n\r\n", [200],
     ran=["GET /a 0"])
case("host", "host-absolute-form-without-host", b"GET http://x/a HTTP/1.1\r\n\r\n", [400], outcome="close")

# ---- chunked framing (RFC 9112 §7.1) ------------------------------------------------
def body(data):
    return chunked(data + SMUG)


case("chunk", "chunk-multi", chunked(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), [200], ran=["POST /a 11"])
case("chunk", "chunk-upper-hex", chunked(b"A\r\n0123456789\r\n0\r\n\r\n"), [200], ran=["POST /a 10"])
case("chunk", "chunk-lower-hex", chunked(b"a\r\n0123456789\r\n0\r\n\r\n"), [200], ran=["POST /a 10"])
case("chunk", "chunk-leading-zeros", chunked(b"0005\r\nhello\r\n0000\r\n\r\n"), [200], ran=["POST /a 5"])
case("chunk", "chunk-ext", chunked(b"5;ext=1\r\nhello\r\n0\r\n\r\n"), [200], ran=["POST /a 5"])
case("chunk", "chunk-ext-no-value", chunked(b"5;ext\r\nhello\r\n0\r\n\r\n"), [200], ran=["POST /a 5"])
case("chunk", "chunk-ext-multiple", chunked(b"5;a=1;b=2\r\nhello\r\n0\r\n\r\n"), [200], ran=["POST /a 5"])
case("chunk", "chunk-ext-last-chunk", chunked(b"5\r\nhello\r\n0;done\r\n\r\n"), [200], ran=["POST /a 5"])
case("chunk", "chunk-ext-quoted", chunked(b'5;a="b;c"\r\nhello\r\n0\r\n\r\n'), [EITHER], ran=["POST /a 5"])
case("chunk", "chunk-ext-bws", chunked(b"5 ;a=1\r\nhello\r\n0\r\n\r\n"), [EITHER], ran=["POST /a 5"])
case("chunk", "chunk-ext-no-name", chunked(b"5;=1\r\nhello\r\n0\r\n\r\n"), [EITHER], ran=["POST /a 5"])
case("chunk", "chunk-ext-ctl", body(b"5;a\x01b\r\nhello\r\n0\r\n\r\n"), [400], outcome="close")
case("chunk", "chunk-ext-bare-lf", body(b"2;\nxx\r\n0\r\n\r\n"), [EITHER, (200, None)],
     ran=["POST /a 2", "GET /smuggled 0"])
case("chunk", "chunk-ext-long", chunked(b"5;" + b"a" * 8000 + b"\r\nhello\r\n0\r\n\r\n"), [(200, 400, 413)],
     ran=["POST /a 5"])
case("chunk", "chunk-trailer", chunked(b"5\r\nhello\r\n0\r\nX-Trailer: a\r\n\r\n"), [200], ran=["POST /a 5"])
case("chunk", "chunk-trailers", chunked(b"5\r\nhello\r\n0\r\nX-A: a\r\nX-B: b\r\n\r\n"), [200], ran=["POST /a 5"])
case("chunk", "chunk-trailer-invalid-line", body(b"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n"), [400], outcome="close")
case("chunk", "chunk-trailer-space-before-colon", body(b"5\r\nhello\r\n0\r\nX-A : a\r\n\r\n"), [400],
     outcome="close")
case("chunk", "chunk-trailer-content-length",
     chunked(b"5\r\nhello\r\n0\r\nContent-Length: 100\r\n\r\n" + SMUG), [EITHER, (200, None)],
     ran=["POST /a 5", "GET /smuggled 0"])
case("chunk", "chunk-trailer-transfer-encoding",
     chunked(b"5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n"), [EITHER], ran=["POST /a 5"])
case("chunk", "chunk-trailer-obs-fold", chunked(b"5\r\nhello\r\n0\r\nX-A: a\r\n b\r\n\r\n"), [EITHER],
     ran=["POST /a 5"])
for name, data in (("chunk-bad-hex", b"G\r\nhello\r\n0\r\n\r\n"), ("chunk-0x-prefix", b"0x5\r\nhello\r\n0\r\n\r\n"),
                   ("chunk-negative", b"-5\r\nhello\r\n0\r\n\r\n"), ("chunk-plus", b"+5\r\nhello\r\n0\r\n\r\n"),
                   ("chunk-underscore", b"1_0\r\n0123456789abcdef\r\n0\r\n\r\n"),
                   ("chunk-space-inside-size", b"5 5\r\nhello\r\n0\r\n\r\n"),
                   ("chunk-leading-space", b"  5\r\nhello\r\n0\r\n\r\n"),
                   ("chunk-empty-size", b"\r\nhello\r\n0\r\n\r\n"),
                   ("chunk-missing-crlf-after-data", b"5\r\nhelloX\r\n0\r\n\r\n"),
                   ("chunk-data-too-long", b"3\r\nhello\r\n0\r\n\r\n"),
                   ("chunk-data-too-short", b"7\r\nhello\r\n0\r\n\r\n"),
                   ("chunk-data-no-crlf", b"5\r\nhello0\r\n\r\n"), ("chunk-bare-cr-size", b"5\rhello\r\n0\r\n\r\n"),
                   ("chunk-bare-cr-data", b"5\r\nhello\r0\r\n\r\n"),
                   ("chunk-missing-final-crlf-then-request", b"5\r\nhello\r\n0\r\n")):
    case("chunk", name, body(data), [400], outcome="close")
for name, data in (("chunk-size-overflow", b"FFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n"),
                   ("chunk-size-2pow64", b"10000000000000000\r\nhello\r\n0\r\n\r\n"),
                   ("chunk-size-over-limit", b"%x\r\nhello\r\n0\r\n\r\n" % (CLIENT_MAX_SIZE + 1))):
    case("chunk", name, body(data), [(400, 413)], outcome="close")
big = b"9c40\r\n" + b"x" * 40000 + b"\r\n"
case("chunk", "chunk-total-over-limit", chunked(big + big + b"0\r\n\r\n"), [413], outcome="close")
case("chunk", "chunk-size-trailing-space", chunked(b"5 \r\nhello\r\n0\r\n\r\n"), [EITHER], ran=["POST /a 5"])
case("chunk", "chunk-size-trailing-tab", chunked(b"5\t\r\nhello\r\n0\r\n\r\n"), [EITHER], ran=["POST /a 5"])
# bare LF in chunked framing: answered at once, either way (issue #11 item 3), never a hang
for name, data in (("chunk-bare-lf-all", b"5\nhello\n0\n\n"), ("chunk-bare-lf-size", b"5\nhello\r\n0\r\n\r\n"),
                   ("chunk-bare-lf-data", b"5\r\nhello\n0\r\n\r\n"), ("chunk-bare-lf-last", b"5\r\nhello\r\n0\n\n"),
                   ("chunk-bare-lf-final", b"5\r\nhello\r\n0\r\n\n")):
    case("chunk", name, chunked(data), [EITHER], ran=["POST /a 5"])
for name, data in (("chunk-bare-lf-all-split", b"5\nhello\n0\n\n"),
                   ("chunk-bare-lf-last-split", b"5\r\nhello\r\n0\n\n")):
    case("chunk", name, [chunked(b""), Pause(0.05), data], [EITHER], ran=["POST /a 5"])
case("chunk", "chunk-bare-lf-then-request", chunked(b"5\nhello\n0\n\n" + SMUG), [EITHER, (200, None)],
     ran=["POST /a 5", "GET /smuggled 0"])
case("chunk", "chunk-missing-final-crlf-eof", chunked(b"5\r\nhello\r\n0\r\n"), [(None, 400)], outcome="close",
     shut=True)
case("chunk", "chunk-missing-last-chunk-eof", chunked(b"5\r\nhello\r\n"), [(None, 400)], outcome="close", shut=True)
case("chunk", "chunk-many-small", chunked(b"1\r\na\r\n" * 1000 + b"0\r\n\r\n"), [200], ran=["POST /a 1000"])
case("chunk", "chunk-then-garbage", chunked(HELLO + b"XYZ\r\n\r\n"), [200, 400], outcome="close",
     ran=["POST /a 5", None])

# ---- request line and limits ---------------------------------------------------------
MAX_LINE = 8190  # http.max_request_line_size default (aiohttp's): the line without its CRLF
case("line", "line-8190", get(b"/" + b"a" * (MAX_LINE - 14)), [200], ran=["GET /%s 0" % ("a" * (MAX_LINE - 14))])
case("line", "line-8191", get(b"/" + b"a" * (MAX_LINE - 13)), [414], outcome="close")
case("line", "line-9000", get(b"/" + b"a" * 9000), [414], outcome="close")
case("line", "line-20000", get(b"/" + b"a" * 20000), [414], outcome="close")
case("line", "line-long-query", get(b"/a?q=" + b"b" * 9000), [414], outcome="close")
case("line", "line-long-then-request", get(b"/" + b"a" * 9000) + get(b"/smuggled"), [414], outcome="close")
case("line", "line-long-method", b"A" * 9000 + b" /a HTTP/1.1\r\nHost: x\r\n\r\n", [(400, 405, 414, 501)],
     outcome="any")
case("line", "headers-16000", get(b"/a", H + b"X-Big: " + b"a" * 15900 + b"\r\n"), [200], ran=["GET /a 0"])
case("line", "headers-17000", get(b"/a", H + b"X-Big: " + b"a" * 17000 + b"\r\n"), [431], outcome="close")
case("line", "headers-many-over", get(b"/a", H + b"".join(b"X-H%03d: %s\r\n" % (i, b"v" * 50) for i in range(320))),
     [431], outcome="close")
case("line", "headers-many-under", get(b"/a", H + b"".join(b"X-H%03d: %s\r\n" % (i, b"v" * 40) for i in range(200))),
     [200], ran=["GET /a 0"])
case("line", "headers-one-line-10000", get(b"/a", H + b"X-Big: " + b"a" * 10000 + b"\r\n"), [(200, 400, 431)],
     ran=["GET /a 0"])
case("line", "headers-over-then-request", get(b"/a", H + b"X-Big: " + b"a" * 17000 + b"\r\n") + get(b"/smuggled"),
     [431], outcome="close")
for name, data in (("line-bad-method-paren", b"G(T /a HTTP/1.1\r\n"),
                   ("line-bad-method-nul", b"GET\x00 /a HTTP/1.1\r\n"),
                   ("line-empty-method", b" /a HTTP/1.1\r\n"), ("line-leading-space", b" GET /a HTTP/1.1\r\n"),
                   ("line-version-lowercase", b"GET /a http/1.1\r\n"),
                   ("line-version-three-parts", b"GET /a HTTP/1.1.1\r\n"),
                   ("line-version-no-dot", b"GET /a HTTP/11\r\n"), ("line-version-major-only", b"GET /a HTTP/1\r\n"),
                   ("line-version-space", b"GET /a HTTP/ 1.1\r\n"),
                   ("line-version-trailing-space", b"GET /a HTTP/1.1 \r\n"),
                   ("line-version-two-digit-minor", b"GET /a HTTP/1.01\r\n"), ("line-no-version", b"GET /a\r\n"),
                   ("line-double-space", b"GET  /a HTTP/1.1\r\n"), ("line-tab-separators", b"GET\t/a\tHTTP/1.1\r\n"),
                   ("line-ctl-in-target", b"GET /a\x01 HTTP/1.1\r\n"),
                   ("line-nul-in-target", b"GET /a\x00b HTTP/1.1\r\n"),
                   ("line-del-in-target", b"GET /a\x7f HTTP/1.1\r\n"),
                   ("line-space-in-target", b"GET /a b HTTP/1.1\r\n"),
                   ("line-bare-cr", b"GET /a HTTP/1.1\r"), ("line-method-only", b"GET\r\n"),
                   ("line-not-http", b"THIS IS NOT HTTP\r\n")):
    case("line", name, data + H + b"\r\n" + SMUG, [400], outcome="close")
case("line", "line-tls-client-hello", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(32)) + b"\r\n\r\n",
     [400], outcome="close")
case("line", "line-http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", [(400, 505)], outcome="close")
for name, version in (("line-version-20", b"HTTP/2.0"), ("line-version-30", b"HTTP/3.0"),
                      ("line-version-09", b"HTTP/0.9")):
    case("line", name, get(b"/a", H, version) + SMUG, [(400, 505)], outcome="close")
case("line", "line-version-12", get(b"/a", H, b"HTTP/1.2"), [(200, 400, 505)], ran=["GET /a 0"])
case("line", "line-http10", get(b"/a", H, b"HTTP/1.0"), [200], outcome="close", ran=["GET /a 0"])
for name, method in (("line-lowercase-method", b"get"), ("line-unknown-method", b"FOO"), ("line-trace", b"TRACE"),
                     ("line-propfind", b"PROPFIND")):
    case("line", name, method + b" /a HTTP/1.1\r\nHost: x\r\n\r\n", [(400, 405, 501)], outcome="any")
case("line", "line-connect", b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", [(400, 404, 405, 501)],
     outcome="any")
for name, method in (("line-put", b"PUT"), ("line-delete", b"DELETE"), ("line-patch", b"PATCH"),
                     ("line-options", b"OPTIONS")):
    case("line", name, method + b" /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", [200],
         ran=[method.decode() + " /a 0"])
case("line", "line-absolute-form", b"GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n", [200], ran=["GET /a 0"])
case("line", "line-absolute-form-https", b"GET https://x/a HTTP/1.1\r\nHost: x\r\n\r\n", [200], ran=["GET /a 0"])
case("line", "line-absolute-form-query", b"GET http://x/a?q=1 HTTP/1.1\r\nHost: x\r\n\r\n", [200], ran=["GET /a 0"])
case("line", "line-absolute-form-no-path", b"GET http://x HTTP/1.1\r\nHost: x\r\n\r\n", [200], ran=["GET / 0"])
case("line", "line-asterisk-options", b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", [(200, 400, 404)], outcome="any")
case("line", "line-asterisk-get", b"GET * HTTP/1.1\r\nHost: x\r\n\r\n", [(400, 404)], outcome="any")
case("line", "line-target-no-slash", b"GET a HTTP/1.1\r\nHost: x\r\n\r\n", [(400, 404)], outcome="any")
case("line", "line-leading-crlf", b"\r\n" + get(), [EITHER], ran=["GET /a 0"])
case("line", "line-leading-crlf-twice", b"\r\n\r\n" + get(), [EITHER], ran=["GET /a 0"])
case("line", "line-leading-lf", b"\n" + get(), [EITHER], ran=["GET /a 0"])
case("line", "line-crlf-between-pipelined", get() + b"\r\n" + get(b"/b"), [200, EITHER], ran=["GET /a 0", "GET /b 0"])
case("line", "line-fragment", get(b"/a#frag"), [EITHER])
case("line", "line-high-bytes-target", get(b"/\xff"), [(200, 400, 404)], outcome="any")
case("line", "line-percent-encoded-path", get(b"/%61"), [200], ran=["GET /a 0"])
case("line", "line-bare-lf-everywhere", b"GET /a HTTP/1.1\nHost: x\n\n", [EITHER], ran=["GET /a 0"])

# ---- header syntax (RFC 9112 §5, RFC 9110 §5.5) --------------------------------------
def hdr(line):
    return get(b"/a", H + line + b"\r\n")


for name, line in (("hdr-space-before-colon", b"X-A : b"), ("hdr-tab-before-colon", b"X-A\t: b"),
                   ("hdr-no-colon", b"X-A"), ("hdr-empty-name", b": b"), ("hdr-space-in-name", b"X A: b"),
                   ("hdr-ctl-in-name", b"X\x01A: b"), ("hdr-lf-in-value", b"X-A: a\nb"),
                   ("hdr-bare-cr-line-end", b"X-A: b\r")):
    case("hdr", name, hdr(line) + SMUG, [400], outcome="close")
case("hdr", "hdr-first-line-folded", b"GET /a HTTP/1.1\r\n X-A: b\r\nHost: x\r\n\r\n" + SMUG, [400], outcome="close")
for name, line in (("hdr-obs-fold", b"X-A: a\r\n b"), ("hdr-obs-fold-tab", b"X-A: a\r\n\tb"),
                   ("hdr-obs-fold-empty-first", b"X-A:\r\n b"), ("hdr-nul-in-value", b"X-A: a\x00b"),
                   ("hdr-cr-in-value", b"X-A: a\rb")):
    case("hdr", name, hdr(line) + SMUG, [400], outcome="close")
for name, line in (("hdr-del-in-value", b"X-A: a\x7fb"), ("hdr-paren-in-name", b"X(A): b"),
                   ("hdr-at-in-name", b"X@A: b"), ("hdr-high-byte-in-name", b"X\xe5A: b")):
    case("hdr", name, hdr(line), [EITHER], ran=["GET /a 0"])
for name, line in (("hdr-underscore-name", b"X_A: b"), ("hdr-obs-text-value", b"X-A: \xe5\xe4\xf6"),
                   ("hdr-tab-in-value", b"X-A: a\tb"), ("hdr-empty-value", b"X-A:"),
                   ("hdr-colon-in-value", b"X-A: b:c"),
                   ("hdr-double-colon", b"X-A:: b"), ("hdr-long-name", b"X-" + b"n" * 1000 + b": b"),
                   ("hdr-upgrade-h2c",
                    b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__"),
                   ("hdr-keep-alive-token", b"Connection: keep-alive")):
    case("hdr", name, hdr(line), [200], ran=["GET /a 0"])
case("hdr", "hdr-no-space-after-colon", get(b"/a", b"Host:x\r\n"), [200], ran=["GET /a 0"])
case("hdr", "hdr-connection-close", hdr(b"Connection: close") + get(b"/smuggled"), [200], outcome="close",
     ran=["GET /a 0"])
case("hdr", "hdr-connection-close-upper", hdr(b"Connection: CLOSE"), [200], outcome="close", ran=["GET /a 0"])
case("hdr", "hdr-connection-list-close", hdr(b"Connection: keep-alive, close"), [200], outcome="close",
     ran=["GET /a 0"])
case("hdr", "hdr-http10-keep-alive", get(b"/a", H + b"Connection: keep-alive\r\n", b"HTTP/1.0"), [200],
     outcome="keep", ran=["GET /a 0"])
case("hdr", "hdr-http10-pipelined", get(b"/a", H, b"HTTP/1.0") + get(b"/smuggled"), [200], outcome="close",
     ran=["GET /a 0"])

# ---- pipelining of valid requests -----------------------------------------------------
case("pipe", "pipe-two", get(b"/a") + get(b"/b"), [200, 200], outcome="keep", ran=["GET /a 0", "GET /b 0"])
case("pipe", "pipe-mixed-methods",
     get(b"/a") + post(H + b"Content-Length: 3\r\n", b"abc", target=b"/b") + b"DELETE /c HTTP/1.1\r\nHost: x\r\n\r\n",
     [200, 200, 200], outcome="keep", ran=["GET /a 0", "POST /b 3", "DELETE /c 0"])
case("pipe", "pipe-ten", b"".join(get(b"/p%d" % i) for i in range(10)), [200] * 10, outcome="keep",
     ran=["GET /p%d 0" % i for i in range(10)])
case("pipe", "pipe-fifty", b"".join(get(b"/p%d" % i) for i in range(50)), [200] * 50, outcome="keep")
case("pipe", "pipe-chunked-then-get", chunked(HELLO) + get(b"/b"), [200, 200], outcome="keep",
     ran=["POST /a 5", "GET /b 0"])
case("pipe", "pipe-good-then-bad", get(b"/a") + b"BAD\r\n\r\n", [200, 400], outcome="close", ran=["GET /a 0", None])
case("pipe", "pipe-bad-then-good", b"BAD\r\n\r\n" + get(b"/smuggled"), [400], outcome="close")
case("pipe", "pipe-close-in-the-middle", get(b"/a") + hdr(b"Connection: close").replace(b"/a", b"/b", 1) + get(b"/c"),
     [200, 200], outcome="close", ran=["GET /a 0", "GET /b 0"])
case("pipe", "pipe-413-then-get", cl(str(CLIENT_MAX_SIZE + 1).encode(), b"x" * 10) + get(b"/smuggled"), [413],
     outcome="close")
case("pipe", "pipe-split-over-reads",
     [b"GET /a HT", Pause(0.05), b"TP/1.1\r\nHo", Pause(0.05), b"st: x\r\n\r", Pause(0.05), b"\n"], [200],
     ran=["GET /a 0"])
case("pipe", "pipe-body-split-over-reads",
     [post(H + b"Content-Length: 10\r\n", b"hello"), Pause(0.05), b"world" + get(b"/b")], [200, 200], outcome="keep",
     ran=["POST /a 10", "GET /b 0"])
case("pipe", "pipe-chunks-split-over-reads",
     [chunked(b"5\r\nhel"), Pause(0.05), b"lo\r\n0\r", Pause(0.05), b"\n\r\n"], [200], ran=["POST /a 5"])

# ---- Expect: 100-continue (RFC 9110 §10.1.1) -----------------------------------------
EXPECT = b"Expect: 100-continue\r\n"
case("expect", "expect-100-waits", [post(H + EXPECT + b"Content-Length: 5\r\n"), Wait(), b"hello"], [200],
     interim=[100], ran=["POST /a 5"])
case("expect", "expect-100-case-insensitive",
     [post(H + b"Expect: 100-Continue\r\nContent-Length: 5\r\n"), Wait(), b"hello"], [200], interim=[100],
     ran=["POST /a 5"])
case("expect", "expect-100-chunked", [post(H + EXPECT + b"Transfer-Encoding: chunked\r\n"), Wait(), HELLO], [200],
     interim=[100], ran=["POST /a 5"])
case("expect", "expect-100-body-sent-at-once", post(H + EXPECT + b"Content-Length: 5\r\n", b"hello"), [200],
     ran=["POST /a 5"])
case("expect", "expect-100-too-large",
     [post(H + EXPECT + b"Content-Length: %d\r\n" % (CLIENT_MAX_SIZE + 1)), Wait()], [413], interim=[], outcome="close")
case("expect", "expect-100-chunk-too-large",
     [post(H + EXPECT + b"Transfer-Encoding: chunked\r\n"), Wait(), b"%x\r\n" % (CLIENT_MAX_SIZE + 1)], [(400, 413)],
     outcome="close")
case("expect", "expect-100-unknown-method",
     [post(H + EXPECT + b"Content-Length: 5\r\n", method=b"PROPFIND"), Wait()], [(405, 501)], interim=[],
     outcome="any")
case("expect", "expect-100-http10", [post(H + EXPECT + b"Content-Length: 5\r\n", version=b"HTTP/1.0"), Wait(1.0),
                                     b"hello"], [200], interim=[], outcome="close", ran=["POST /a 5"])
case("expect", "expect-100-xchunked", [post(H + EXPECT + b"Transfer-Encoding: xchunked\r\n"), Wait()], [501],
     interim=[], outcome="close")
case("expect", "expect-100-no-host", [post(EXPECT + b"Content-Length: 5\r\n"), Wait()], [400], interim=[],
     outcome="close")
case("expect", "expect-100-te-and-cl",
     [post(H + EXPECT + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), Wait()], [400], interim=[],
     outcome="close")


def by_name():
    names = {}
    for item in CASES:
        assert item.name not in names, "duplicate case name " + item.name
        names[item.name] = item
    return names


def case_bytes(item):
    """Every byte a case sends, its segments joined (the markers dropped)."""
    return b"".join(segment for segment in item.segments if isinstance(segment, bytes))


if __name__ == "__main__":
    # python3 tests/e2e/http_corpus_cases.py DIR: one file per case (DIR/<name>.http), e.g. to
    # seed a fuzz corpus of the framing code.
    import os
    import sys

    if len(sys.argv) != 2:
        raise SystemExit("usage: http_corpus_cases.py <output directory>")
    os.makedirs(sys.argv[1], exist_ok=True)
    for item in by_name().values():
        with open(os.path.join(sys.argv[1], item.name + ".http"), "wb") as file:
            file.write(case_bytes(item))
    print("wrote %d cases to %s" % (len(CASES), sys.argv[1]))
