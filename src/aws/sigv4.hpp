#pragma once
// AWS Signature Version 4 for requests with the signature in the Authorization header,
// canonicalised the way botocore does it for SNS, SQS and STS (non-S3 services).

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tomodachi::aws {

/// A set of AWS credentials; `session_token` is empty for long-term keys.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  /// When temporary credentials stop working (nullopt: never).
  std::optional<std::chrono::system_clock::time_point> expiration;

  bool complete() const noexcept { return !access_key_id.empty() && !secret_access_key.empty(); }
};

struct Header {
  std::string name;
  std::string value;
};

/// The parts of an HTTP request the signature covers, exactly as they go on the wire.
struct RequestToSign {
  std::string_view method;          ///< "POST", "GET", ...
  std::string_view host;            ///< Host header value: host, or host:port for non-default ports
  std::string_view path;            ///< percent-encoded path as sent ("/" when empty)
  std::string_view query;           ///< percent-encoded query as sent, without '?'
  std::span<const Header> headers;  ///< other headers that are sent (Host excluded)
  std::string_view payload;         ///< request body
};

/// The headers the signer adds to the request, and the intermediate texts (for tests and
/// debugging signature mismatches).
struct Signature {
  std::vector<Header> headers;  ///< X-Amz-Date, X-Amz-Security-Token (if any), Authorization
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  ///< lower-case hex
};

/// Signs `request` for `service` in `region` at time `now`.
Signature sign_v4(const RequestToSign& request, const Credentials& credentials,
                  std::string_view region, std::string_view service,
                  std::chrono::system_clock::time_point now);

// ---- the steps, exposed for tests -----------------------------------------------------

/// `20150830T123600Z`.
std::string amz_date(std::chrono::system_clock::time_point time);

/// The canonical URI: dot segments and empty segments removed, then percent-encoded once
/// more (everything but unreserved characters, '/' and '~'), as botocore does.
std::string canonical_uri(std::string_view path);

/// The canonical query: `name=value` pairs of the sent query sorted by name, then value.
std::string canonical_query(std::string_view query);

/// A header value with leading/trailing whitespace removed and inner runs collapsed.
std::string canonical_header_value(std::string_view value);

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
std::string signing_key(std::string_view secret_access_key, std::string_view date,
                        std::string_view region, std::string_view service);

/// Percent-encodes per RFC 3986 (unreserved characters A-Z a-z 0-9 - _ . ~ stay as they are);
/// the encoding of SigV4 query parameters and of form bodies of the Query API.
std::string uri_encode(std::string_view text);

}  // namespace tomodachi::aws
