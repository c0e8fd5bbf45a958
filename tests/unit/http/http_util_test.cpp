#include "http/http_util.hpp"

#include "http/access_log.hpp"

#include <gtest/gtest.h>

using namespace tomodachi;
using namespace tomodachi::http_impl;

TEST(HttpOptions, ClientMaxSize) {
  EXPECT_EQ(parse_client_max_size(std::int64_t{104857600}), 104857600);
  EXPECT_EQ(parse_client_max_size(std::string("100MB")), 104857600);
  EXPECT_EQ(parse_client_max_size(std::string("100m")), 104857600);
  EXPECT_EQ(parse_client_max_size(std::string("2K")), 2048);
  EXPECT_EQ(parse_client_max_size(std::string("1gb")), 1073741824);
  EXPECT_EQ(parse_client_max_size(std::string("4096B")), 4096);
  EXPECT_EQ(parse_client_max_size(std::string("4096")), 4096);
  auto message = [](auto value) {
    try {
      parse_client_max_size(value);
    } catch (const tomodachi::OptionError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(std::int64_t{1023}).rfind("Too low value for http option client_max_size", 0),
            0u);
  EXPECT_EQ(
      message(std::int64_t{1073741825}).rfind("Too high value for http option client_max_size", 0),
      0u);
  EXPECT_EQ(message(std::string("2GB")).rfind("Too high value", 0), 0u);
  EXPECT_EQ(
      message(std::string("1.5MB")).rfind("Bad value for http option client_max_size: 1.5MB", 0),
      0u);
  EXPECT_EQ(message(std::string("MB")).rfind("Bad value", 0), 0u);
}

TEST(HttpKeepAlive, ConfigValidation) {
  Options::Http http;
  EXPECT_FALSE(keepalive_config(http).enabled());
  http.keepalive_expiry = 5;
  EXPECT_EQ(keepalive_config(http).timeout, 5);
  http.keepalive_timeout = 75;
  EXPECT_EQ(keepalive_config(http).timeout, 75);

  Options::Http bad;
  bad.max_keepalive_requests = 10;
  try {
    keepalive_config(bad);
    FAIL();
  } catch (const tomodachi::OptionError& error) {
    EXPECT_STREQ(error.what(),
                 "HTTP keep-alive must be enabled to use http option max_keepalive_requests - a "
                 "http.keepalive_timeout option value is required");
  }
  Options::Http bad_time;
  bad_time.max_keepalive_time = 10;
  EXPECT_THROW(keepalive_config(bad_time), tomodachi::OptionError);
  Options::Http zero;
  zero.max_keepalive_requests = 0;  // falsy: unlimited, fine without keep-alive
  EXPECT_NO_THROW(keepalive_config(zero));
}

TEST(HttpKeepAlive, Decisions) {
  using namespace std::chrono_literals;
  KeepAliveConfig off;
  EXPECT_FALSE(decide_keep_alive(off, true, 1, 0s, false).keep_alive);

  KeepAliveConfig on{75, 0, 0};
  auto decision = decide_keep_alive(on, true, 1, 0s, false);
  EXPECT_TRUE(decision.keep_alive);
  EXPECT_EQ(decision.keep_alive_header, "timeout=75");
  EXPECT_FALSE(decide_keep_alive(on, false, 1, 0s, false).keep_alive);
  EXPECT_FALSE(decide_keep_alive(on, true, 1, 0s, true).keep_alive);  // shutting down

  KeepAliveConfig limited{5, 3, 10};
  EXPECT_EQ(decide_keep_alive(limited, true, 1, 0s, false).keep_alive_header, "timeout=5, max=3");
  EXPECT_TRUE(decide_keep_alive(limited, true, 2, 0s, false).keep_alive);
  EXPECT_FALSE(decide_keep_alive(limited, true, 3, 0s, false).keep_alive);  // N-th response closes
  EXPECT_TRUE(decide_keep_alive(limited, true, 1, 10s, false).keep_alive);
  EXPECT_FALSE(decide_keep_alive(limited, true, 1, 11s, false).keep_alive);
}

TEST(HttpRealIp, TrustedProxiesOnly) {
  auto trusted = parse_ip_networks({"127.0.0.1"});
  EXPECT_EQ(real_ip("127.0.0.1", "192.168.0.1, 10.0.0.1", trusted), "192.168.0.1");
  EXPECT_EQ(real_ip("127.0.0.1", std::nullopt, trusted), "127.0.0.1");
  EXPECT_EQ(real_ip("10.1.1.1", "192.168.0.1", trusted), "10.1.1.1");
  EXPECT_EQ(real_ip("127.0.0.1", "  192.168.0.7 extra, 10.0.0.1", trusted), "192.168.0.7");
  auto networks = parse_ip_networks({"10.0.0.0/8", "fd00::/8", ""});
  EXPECT_EQ(networks.size(), 2u);
  EXPECT_TRUE(address_in_networks("10.200.3.4", networks));
  EXPECT_FALSE(address_in_networks("11.0.0.1", networks));
  EXPECT_TRUE(address_in_networks("fd12::1", networks));
  EXPECT_FALSE(address_in_networks("fe80::1", networks));
  EXPECT_TRUE(address_in_networks("::ffff:10.0.0.1", networks));  // v4-mapped
  EXPECT_FALSE(address_in_networks("not-an-ip", networks));
  EXPECT_TRUE(address_in_networks("172.16.5.5", parse_ip_networks({"172.16.0.0/12"})));
  EXPECT_FALSE(address_in_networks("172.32.0.1", parse_ip_networks({"172.16.0.0/12"})));
  EXPECT_THROW(parse_ip_network("10.0.0.0/33"), tomodachi::OptionError);
  EXPECT_THROW(parse_ip_network("example.com"), tomodachi::OptionError);
}

TEST(HttpBasicAuth, UserName) {
  EXPECT_EQ(basic_auth_user("Basic YXV0aHVzZXI6c2VjcmV0YWY="), "authuser");
  EXPECT_EQ(basic_auth_user("basic YXV0aHVzZXI6c2VjcmV0YWY="), "authuser");
  EXPECT_EQ(basic_auth_user("Basic 0123456789"), "");
  EXPECT_EQ(basic_auth_user("Bearer abc"), "");
  EXPECT_EQ(basic_auth_user("Basic dXNlcm9ubHk="), "");  // "useronly": no colon
}

TEST(HttpPaths, PercentDecode) {
  EXPECT_EQ(percent_decode("/a%20b/%C3%A5"), "/a b/\xC3\xA5");
  EXPECT_EQ(percent_decode("/bad%zz/%4"), "/bad%zz/%4");
  EXPECT_EQ(percent_decode("/..%2Fetc"), "/../etc");
}

TEST(HttpContentType, Defaults) {
  auto defaults = content_defaults("text/plain; charset=utf-8", "utf-8");
  EXPECT_EQ(defaults.mime, "text/plain");
  EXPECT_EQ(defaults.charset, "utf-8");
  defaults = content_defaults("application/json; charset=iso-8859-1", "utf-8");
  EXPECT_EQ(defaults.mime, "application/json");
  EXPECT_EQ(defaults.charset, "iso-8859-1");
  defaults = content_defaults("text/html; boundary=x", "ascii");
  EXPECT_EQ(defaults.mime, "text/html; boundary=x");
  EXPECT_EQ(defaults.charset, "ascii");
  defaults = content_defaults("text/html", "utf-8");
  EXPECT_EQ(defaults.mime, "text/html");
}

TEST(HttpCharset, Encode) {
  EXPECT_EQ(*encode_text("test \xC3\xA5\xC3\xA4\xC3\xB6", "ISO-8859-1"), "test \xE5\xE4\xF6");
  EXPECT_EQ(*encode_text("abc", "latin1"), "abc");
  EXPECT_FALSE(encode_text("test \xE5\x8F\x8B\xE9\x81\x94", "iso-8859-1"));  // 友達
  EXPECT_FALSE(encode_text("abc", "utf-9"));
  EXPECT_FALSE(encode_text("\xC3\xA5", "ascii"));
  EXPECT_EQ(*encode_text("A", "utf-16-be"), std::string("\0A", 2));
  EXPECT_EQ(*encode_text("A", "utf-16"), std::string("\xFF\xFE"
                                                     "A\0",
                                                     4));
  EXPECT_EQ(*encode_text("\xF0\x9F\x98\x80", "utf-16-le"), std::string("\x3D\xD8\x00\xDE", 4));
  EXPECT_EQ(*encode_text("caf\xC3\xA9", " UTF-8 "), "caf\xC3\xA9");
  EXPECT_EQ(*encode_text("caf\xC3\xA9", "UTF_8"), "caf\xC3\xA9");
}

namespace {
const ContentDefaults default_types{"text/plain", "utf-8"};

std::string content_type_of(const WireResponse& wire) {
  std::string_view value = wire.content_type_value();
  return value.empty() ? std::string("<none>") : std::string(value);
}
}  // namespace

TEST(HttpResponseShapes, StringBytesNoneTuples) {
  auto wire = to_wire(Response("test"), 200, default_types);
  EXPECT_EQ(wire.status, 200);
  EXPECT_EQ(wire.body, "test");
  EXPECT_EQ(content_type_of(wire), "text/plain; charset=utf-8");
  // the service default is a view of the once-formatted header: no header allocated
  EXPECT_TRUE(wire.headers.empty());
  EXPECT_EQ(wire.content_type.data(), default_types.header.data());

  wire = to_wire(Response(Bytes{"test \xc3\xa5\xc3\xa4\xc3\xb6"}), 200, default_types);
  EXPECT_EQ(wire.body, "test \xc3\xa5\xc3\xa4\xc3\xb6");
  EXPECT_EQ(content_type_of(wire), "text/plain; charset=utf-8");

  wire = to_wire(Response(), 200, default_types);
  EXPECT_EQ(wire.body, "");
  EXPECT_EQ(wire.status, 200);
  EXPECT_EQ(content_type_of(wire), "text/plain; charset=utf-8");

  wire = to_wire(Response(200, "test tuple", {{"X-Tuple", "test"}}), 200, default_types);
  EXPECT_EQ(wire.body, "test tuple");
  EXPECT_EQ(*find_header(wire.headers, "x-tuple"), "test");

  wire = to_wire(Response(0, "keeps default"), 404, default_types);  // falsy status
  EXPECT_EQ(wire.status, 404);
  wire = to_wire(Response("in error handler"), 404, default_types);
  EXPECT_EQ(wire.status, 404);
}

TEST(HttpResponseShapes, ExplicitContentTypes) {
  Response passthrough(200, "test", {{"Content-Type", "text/plain; "}});
  auto wire = to_wire(std::move(passthrough), 200, default_types);
  EXPECT_EQ(content_type_of(wire), "text/plain; ");
  EXPECT_EQ(wire.body, "test");

  Response latin(200, "test \xC3\xA5\xC3\xA4\xC3\xB6",
                 {{"Content-Type", "text/plain; charset=iso-8859-1"}});
  wire = to_wire(std::move(latin), 200, default_types);
  EXPECT_EQ(wire.body, "test \xE5\xE4\xF6");
  EXPECT_EQ(content_type_of(wire), "text/plain; charset=iso-8859-1");

  Response unencodable(200, "test \xE5\x8F\x8B\xE9\x81\x94",
                       {{"Content-Type", "text/plain; charset=iso-8859-1"}});
  EXPECT_THROW(to_wire(std::move(unencodable), 200, default_types), ResponseEncodingError);

  Response unknown(200, "test", {{"Content-Type", "text/plain; charset=utf-9"}});
  EXPECT_THROW(to_wire(std::move(unknown), 200, default_types), ResponseEncodingError);

  Response no_semicolon(200, "test \xC3\xA5", {{"Content-Type", "text/html"}});
  wire = to_wire(std::move(no_semicolon), 200, default_types);
  EXPECT_EQ(wire.body, "test \xC3\xA5");  // no charset: UTF-8
  EXPECT_EQ(content_type_of(wire), "text/html");

  Response bytes_latin(200, Bytes{"\xC3\xA5"},
                       {{"Content-Type", "text/plain; charset=iso-8859-1"}});
  wire = to_wire(std::move(bytes_latin), 200, default_types);
  EXPECT_EQ(wire.body, "\xC3\xA5");  // bytes are never re-encoded

  Response explicit_type("<b>hi</b>");
  explicit_type.content_type = "text/html";
  wire = to_wire(std::move(explicit_type), 200, default_types);
  EXPECT_EQ(content_type_of(wire), "text/html");

  Response explicit_both("x");
  explicit_both.content_type = "text/html";
  explicit_both.charset = "latin-1";
  wire = to_wire(std::move(explicit_both), 200, default_types);
  EXPECT_EQ(content_type_of(wire), "text/html; charset=latin-1");

  auto json = to_wire(Response::json(boost::json::value{{"a", 1}}), 200, default_types);
  EXPECT_EQ(json.body, "{\"a\": 1}");
  EXPECT_EQ(content_type_of(json), "application/json; charset=utf-8");

  ContentDefaults json_service{"application/json", "utf-8"};
  wire = to_wire(Response("{}"), 200, json_service);
  EXPECT_EQ(content_type_of(wire), "application/json; charset=utf-8");

  Response empty_unknown(200, "", {{"Content-Type", "text/plain; charset=utf-9"}});
  EXPECT_NO_THROW(to_wire(std::move(empty_unknown), 200, default_types));  // nothing to encode
}

TEST(HttpResponseShapes, StatusResponses) {
  auto wire = status_response(404);
  EXPECT_EQ(wire.body, "Not Found");
  EXPECT_EQ(content_type_of(wire), "text/plain; charset=utf-8");
  EXPECT_EQ(status_response(405).body, "Method Not Allowed");
  EXPECT_EQ(status_response(503).body, "Service Unavailable");
  EXPECT_EQ(status_response(302).body, "Found");
  EXPECT_EQ(status_response(500, true).body, "");
  EXPECT_EQ(status_response(500).body, "Internal Server Error");
}

TEST(HttpAccessLog, FieldsInUpstreamOrder) {
  AccessLogEntry entry;
  entry.status = 404;
  entry.remote_ip = "127.0.0.1";
  entry.method = "POST";
  entry.path = "/unknown";
  entry.response_content_length = 8;
  entry.request_content_length = 10;
  entry.request_content_read_length = 10;
  entry.user_agent = "curl/7.88.1";
  entry.handler_elapsed_seconds = 0.00135;
  entry.request_seconds = 0.001434;
  auto fields = access_log_fields(entry);
  std::vector<std::string> keys;
  for (const auto& field : fields) keys.push_back(field.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"status_code", "remote_ip", "request_method", "request_path",
                                      "http_version", "response_content_length",
                                      "request_content_length", "request_content_read_length",
                                      "user_agent", "handler_elapsed_time", "request_time"}));
  EXPECT_EQ(fields.back().value.as_string(), "0.00143s");
  EXPECT_EQ(fields[9].value.as_string(), "0.00135s");

  AccessLogEntry full = entry;
  full.replaced_status = 200;
  full.status = 499;
  full.auth_user = "authuser";
  full.query_string = "a=1";
  full.replaced_response_content_length = 4;
  full.response_content_length = 0;  // an empty body is logged as 0, like aiohttp's content_length
  keys.clear();
  for (const auto& field : access_log_fields(full)) keys.push_back(field.key);
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "status_code", "replaced_status_code", "remote_ip", "auth_user",
                      "request_method", "request_path", "request_query_string", "http_version",
                      "response_content_length", "replaced_response_content_length",
                      "request_content_length", "request_content_read_length", "user_agent",
                      "handler_elapsed_time", "request_time"}));

  AccessLogEntry minimal;
  minimal.status = 200;
  minimal.method = "GET";
  minimal.path = "/";
  minimal.request_seconds = 0.0;
  keys.clear();
  for (const auto& field : access_log_fields(minimal)) keys.push_back(field.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"status_code", "remote_ip", "request_method", "request_path",
                                      "http_version", "user_agent", "request_time"}));

  // A body cut short (`ignored http request - connection closed before body was sent`): the
  // bytes read are not a request length, and there is no request time.
  AccessLogEntry cut;
  cut.status = 499;
  cut.method = "POST";
  cut.path = "/upload";
  cut.response_content_length = 0;
  cut.request_content_read_length = 100;
  cut.request_length_from_read = false;
  keys.clear();
  for (const auto& field : access_log_fields(cut)) keys.push_back(field.key);
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "status_code", "remote_ip", "request_method", "request_path", "http_version",
                      "response_content_length", "request_content_read_length", "user_agent"}));
}

TEST(HttpAccessLog, Formats) {
  EXPECT_EQ(format_seconds(0.00001), "0.00001s");
  EXPECT_EQ(format_seconds(2.5), "2.50000s");
  EXPECT_EQ(listen_url("0.0.0.0", 9700), "http://localhost:9700/");
  EXPECT_EQ(listen_url("127.0.0.1", 80), "http://localhost:80/");
  EXPECT_EQ(listen_url("10.0.0.5", 80), "http://10.0.0.5:80/");
  EXPECT_EQ(listen_url("::1", 80), "http://[::1]:80/");
  EXPECT_EQ(mime_type_for("image.png"), "image/png");
  EXPECT_EQ(mime_type_for("x.unknownext"), "application/octet-stream");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
}

TEST(HttpForms, UrlencodedAndMultipart) {
  auto fields = parse_form("application/x-www-form-urlencoded", "a=1&b=hello+world%21&empty=&flag");
  ASSERT_TRUE(fields);
  ASSERT_EQ(fields->size(), 4u);
  EXPECT_EQ((*fields)[1].name, "b");
  EXPECT_EQ((*fields)[1].value, "hello world!");
  EXPECT_EQ((*fields)[3].name, "flag");

  std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nmy picture\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"image.png\"\r\n"
      "Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n-bytes\r\n--XyZ--\r\n";
  fields = parse_form("multipart/form-data; boundary=\"XyZ\"", body);
  ASSERT_TRUE(fields);
  ASSERT_EQ(fields->size(), 2u);
  EXPECT_EQ((*fields)[0].name, "title");
  EXPECT_EQ((*fields)[0].value, "my picture");
  EXPECT_FALSE((*fields)[0].filename);
  EXPECT_EQ((*fields)[1].name, "file");
  EXPECT_EQ(*(*fields)[1].filename, "image.png");
  EXPECT_EQ((*fields)[1].content_type, "image/png");
  EXPECT_EQ((*fields)[1].value, "\x89PNG\r\n\x1a\n-bytes");

  EXPECT_FALSE(parse_form("multipart/form-data; boundary=XyZ", "--XyZ\r\nno end"));
  EXPECT_FALSE(parse_form("multipart/form-data", body));  // no boundary
  EXPECT_TRUE(parse_form("application/json", "{}")->empty());
}
