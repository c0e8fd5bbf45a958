// Signs requests given as JSON on stdin with tomodachi's SigV4 signer and prints the
// signed headers as JSON; tests/unit/aws/sigv4_botocore_test.py compares them with botocore.
//
// Input:  [{"method", "url", "headers": [[name, value], ...], "body", "access_key_id",
//           "secret_access_key", "session_token", "region", "service", "epoch"}, ...]
// Output: [{"authorization", "x_amz_date", "x_amz_security_token", "canonical_request"}, ...]

#include "aws/sigv4.hpp"
#include "aws/url.hpp"

#include <boost/json.hpp>

#include <iostream>
#include <iterator>
#include <string>

namespace aws = tomodachi::aws;
namespace json = boost::json;

int main() {
  const std::string input{std::istreambuf_iterator<char>(std::cin),
                          std::istreambuf_iterator<char>()};
  json::array results;
  const json::value parsed = json::parse(input);
  for (const auto& item : parsed.as_array()) {
    const auto& spec = item.as_object();
    const auto url = aws::Url::parse(spec.at("url").as_string());
    std::vector<aws::Header> headers;
    for (const auto& header : spec.at("headers").as_array()) {
      headers.push_back({std::string(header.as_array().at(0).as_string()),
                         std::string(header.as_array().at(1).as_string())});
    }
    aws::Credentials credentials{std::string(spec.at("access_key_id").as_string()),
                                 std::string(spec.at("secret_access_key").as_string()),
                                 std::string(spec.at("session_token").as_string()), std::nullopt};
    const std::string body(spec.at("body").as_string());
    const auto now =
        std::chrono::system_clock::time_point(std::chrono::seconds(spec.at("epoch").as_int64()));
    const aws::RequestToSign request{
        spec.at("method").as_string(), url.host_header, url.path, url.query, headers, body};
    const auto signature = aws::sign_v4(request, credentials, spec.at("region").as_string(),
                                        spec.at("service").as_string(), now);
    json::object result;
    result["canonical_request"] = signature.canonical_request;
    for (const auto& header : signature.headers) {
      if (header.name == "Authorization") result["authorization"] = header.value;
      if (header.name == "X-Amz-Date") result["x_amz_date"] = header.value;
      if (header.name == "X-Amz-Security-Token") result["x_amz_security_token"] = header.value;
    }
    results.push_back(std::move(result));
  }
  std::cout << json::serialize(results) << '\n';
  return 0;
}
