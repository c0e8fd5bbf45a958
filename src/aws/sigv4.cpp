#include "aws/sigv4.hpp"

#include "aws/ascii.hpp"

#include "core/encoding.hpp"

#include <algorithm>
#include <ctime>
#include <utility>

namespace tomodachi::aws {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr char hex_upper[] = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) {
  return ascii::is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

// Python's str.split() whitespace for ASCII text.
bool is_python_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = ascii::to_lower(c);
  return out;
}

void percent_encode_to(std::string& out, unsigned char c) {
  out += '%';
  out += hex_upper[c >> 4];
  out += hex_upper[c & 15];
}

}  // namespace

std::string uri_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (is_unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      percent_encode_to(out, c);
    }
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[20];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::string canonical_uri(std::string_view path) {
  if (path.empty()) return "/";
  // Remove dot segments and empty segments (RFC 3986 §5.2.4 plus AWS's slash collapsing).
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const auto segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string normalized;
  if (path.front() == '/') normalized += '/';
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) normalized += '/';
    normalized += segments[i];
  }
  if (path.back() == '/' && !segments.empty()) normalized += '/';

  std::string out;
  out.reserve(normalized.size());
  for (unsigned char c : normalized) {
    if (is_unreserved(c) || c == '/') {
      out += static_cast<char>(c);
    } else {
      percent_encode_to(out, c);
    }
  }
  return out;
}

std::string canonical_query(std::string_view query) {
  if (query.empty()) return {};
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  std::size_t start = 0;
  while (start <= query.size()) {
    auto end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const auto pair = query.substr(start, end - start);
    const auto equals = pair.find('=');
    if (equals == std::string_view::npos) {
      pairs.emplace_back(pair, std::string_view{});
    } else {
      pairs.emplace_back(pair.substr(0, equals), pair.substr(equals + 1));
    }
    start = end + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string canonical_header_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (unsigned char c : value) {
    if (is_python_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(c);
  }
  return out;
}

std::string signing_key(std::string_view secret_access_key, std::string_view date,
                        std::string_view region, std::string_view service) {
  const std::string secret = "AWS4" + std::string(secret_access_key);
  const auto k_date = encoding::hmac_sha256(secret, date);
  const auto k_region = encoding::hmac_sha256(k_date, region);
  const auto k_service = encoding::hmac_sha256(k_region, service);
  return encoding::hmac_sha256(k_service, "aws4_request");
}

Signature sign_v4(const RequestToSign& request, const Credentials& credentials,
                  std::string_view region, std::string_view service,
                  std::chrono::system_clock::time_point now) {
  Signature result;
  const std::string timestamp = amz_date(now);
  const std::string date = timestamp.substr(0, 8);
  result.headers.push_back({"X-Amz-Date", timestamp});
  if (!credentials.session_token.empty()) {
    result.headers.push_back({"X-Amz-Security-Token", credentials.session_token});
  }

  // Lower-cased name → values in the order sent; repeated headers are joined with ','.
  std::vector<std::pair<std::string, std::string>> signed_headers;
  const auto add = [&](std::string_view name, std::string_view value) {
    auto key = lower(name);
    if (key == "authorization" || key == "user-agent" || key == "expect" ||
        key == "x-amzn-trace-id") {
      return;
    }
    auto canonical = canonical_header_value(value);
    for (auto& [existing, values] : signed_headers) {
      if (existing == key) {
        values += ',';
        values += canonical;
        return;
      }
    }
    signed_headers.emplace_back(std::move(key), std::move(canonical));
  };
  add("host", request.host);
  for (const auto& header : request.headers) {
    if (lower(header.name) == "x-amz-date" || lower(header.name) == "x-amz-security-token")
      continue;
    add(header.name, header.value);
  }
  for (const auto& header : result.headers) add(header.name, header.value);
  std::stable_sort(signed_headers.begin(), signed_headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string header_names;
  std::string& canonical = result.canonical_request;
  canonical.reserve(512);
  canonical += request.method;
  canonical += '\n';
  canonical += canonical_uri(request.path);
  canonical += '\n';
  canonical += canonical_query(request.query);
  canonical += '\n';
  for (const auto& [name, value] : signed_headers) {
    canonical += name;
    canonical += ':';
    canonical += value;
    canonical += '\n';
    if (!header_names.empty()) header_names += ';';
    header_names += name;
  }
  canonical += '\n';
  canonical += header_names;
  canonical += '\n';
  canonical += encoding::sha256_hex(request.payload);

  const std::string scope =
      date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  result.string_to_sign = std::string(algorithm) + "\n" + timestamp + "\n" + scope + "\n" +
                          encoding::sha256_hex(canonical);
  const auto key = signing_key(credentials.secret_access_key, date, region, service);
  result.signature = encoding::hex_lower(encoding::hmac_sha256(key, result.string_to_sign));
  result.headers.push_back({"Authorization", std::string(algorithm) +
                                                 " Credential=" + credentials.access_key_id + "/" +
                                                 scope + ", SignedHeaders=" + header_names +
                                                 ", Signature=" + result.signature});
  return result;
}

}  // namespace tomodachi::aws
