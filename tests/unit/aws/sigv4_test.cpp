// SigV4 against the worked examples of AWS's documentation ("Signature Version 4 signing
// process", AWS General Reference: the IAM ListUsers request signed with the example key
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY).

#include "aws/sigv4.hpp"
#include "aws/url.hpp"
#include "core/encoding.hpp"

#include <gtest/gtest.h>
#include <tomodachi/error.hpp>

namespace aws = tomodachi::aws;
using std::chrono::system_clock;

namespace {

const aws::Credentials example_credentials{
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt};

system_clock::time_point utc(int year, unsigned month, unsigned day, int h, int m, int s) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(month) - 1;
  tm.tm_mday = static_cast<int>(day);
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return system_clock::from_time_t(timegm(&tm));
}

const std::string& header(const aws::Signature& signature, std::string_view name) {
  for (const auto& h : signature.headers) {
    if (h.name == name) return h.value;
  }
  static const std::string none;
  return none;
}

}  // namespace

// https://docs.aws.amazon.com/general/latest/gr/sigv4-calculate-signature.html (2011 edition):
// POST http://iam.amazonaws.com/ with a form body.
TEST(SigV4, AwsDocumentationExamplePost2011) {
  const std::vector<aws::Header> headers{
      {"Content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
  const aws::RequestToSign request{
      "POST", "iam.amazonaws.com", "/", "", headers, "Action=ListUsers&Version=2010-05-08"};
  const auto signature =
      aws::sign_v4(request, example_credentials, "us-east-1", "iam", utc(2011, 9, 9, 23, 36, 0));

  EXPECT_EQ(tomodachi::encoding::hex_lower(aws::signing_key(example_credentials.secret_access_key,
                                                            "20110909", "us-east-1", "iam")),
            "98f1d889fec4f4421adc522bab0ce1f82e6929c262ed15e5a94c90efd1e3b0e7");
  EXPECT_EQ(signature.string_to_sign,
            "AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/iam/aws4_request\n"
            "3511de7e95d28ecd39e9513b642aee07e54f4941150d8df8bf94b328ef7e55e2");
  EXPECT_EQ(signature.signature,
            "ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c");
  EXPECT_EQ(header(signature, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/iam/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, "
            "Signature=ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c");
  EXPECT_EQ(header(signature, "X-Amz-Date"), "20110909T233600Z");
  EXPECT_EQ(header(signature, "X-Amz-Security-Token"), "");
}

// The 2015 edition of the same pages: GET
// https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08.
TEST(SigV4, AwsDocumentationExampleGet2015) {
  const auto url =
      aws::Url::parse("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08");
  const std::vector<aws::Header> headers{
      {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  const aws::RequestToSign request{"GET", url.host_header, url.path, url.query, headers, ""};
  const auto signature =
      aws::sign_v4(request, example_credentials, "us-east-1", "iam", utc(2015, 8, 30, 12, 36, 0));
  EXPECT_EQ(signature.canonical_request,
            "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
            "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
            "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(tomodachi::encoding::sha256_hex(signature.canonical_request),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(tomodachi::encoding::hex_lower(aws::signing_key(example_credentials.secret_access_key,
                                                            "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  EXPECT_EQ(signature.signature,
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SigV4, SessionTokenIsSentAndSigned) {
  const aws::Credentials credentials{"ASIAEXAMPLE", "secret", "token/with+chars=", std::nullopt};
  const aws::RequestToSign request{"POST", "sqs.eu-west-1.amazonaws.com", "/", "", {}, "{}"};
  const auto signature =
      aws::sign_v4(request, credentials, "eu-west-1", "sqs", utc(2024, 4, 5, 19, 34, 38));
  EXPECT_EQ(header(signature, "X-Amz-Security-Token"), "token/with+chars=");
  EXPECT_NE(signature.canonical_request.find("x-amz-security-token:token/with+chars=\n"),
            std::string::npos);
  EXPECT_NE(header(signature, "Authorization")
                .find("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
            std::string::npos);
}

TEST(SigV4, CanonicalParts) {
  EXPECT_EQ(aws::canonical_uri(""), "/");
  EXPECT_EQ(aws::canonical_uri("/a/./b/../c//d/"), "/a/c/d/");
  EXPECT_EQ(aws::canonical_uri("/a%20b"), "/a%2520b");
  EXPECT_EQ(aws::canonical_query("b=2&a=1&a=0&c"), "a=0&a=1&b=2&c=");
  EXPECT_EQ(aws::canonical_header_value("  a   b\t c  "), "a b c");
  EXPECT_EQ(aws::uri_encode("a b+c/~é"), "a%20b%2Bc%2F~%C3%A9");
}

TEST(SigV4, RepeatedHeadersAreJoined) {
  const std::vector<aws::Header> headers{{"X-Multi", "one"}, {"x-multi", " two  three "}};
  const aws::RequestToSign request{"GET", "h", "/", "", headers, ""};
  const auto signature =
      aws::sign_v4(request, example_credentials, "r", "s", utc(2024, 1, 1, 0, 0, 0));
  EXPECT_NE(signature.canonical_request.find("x-multi:one,two three\n"), std::string::npos);
}

TEST(Url, Parse) {
  auto url = aws::Url::parse("http://127.0.0.1:4566");
  EXPECT_FALSE(url.tls);
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 4566);
  EXPECT_EQ(url.host_header, "127.0.0.1:4566");
  EXPECT_EQ(url.path, "/");
  url = aws::Url::parse("HTTPS://SQS.eu-west-1.amazonaws.com:443/123456789012/q?x=1");
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.host_header, "sqs.eu-west-1.amazonaws.com");
  EXPECT_EQ(url.path, "/123456789012/q");
  EXPECT_EQ(url.query, "x=1");
  url = aws::Url::parse("http://[::1]:8080/");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.host_header, "[::1]:8080");
  EXPECT_THROW(aws::Url::parse("ftp://x/"), tomodachi::ArgumentError);
  EXPECT_THROW(aws::Url::parse("not a url"), tomodachi::ArgumentError);
}
