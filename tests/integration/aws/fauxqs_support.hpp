#pragma once
// Finding the fauxqs test peer (ctest fixture `fauxqs`) and a client configured for it.

#include "aws/aws_client.hpp"
#include "unit/aws/peer_support.hpp"

#include <string>
#include <string_view>

namespace aws_test {

inline constexpr std::string_view fauxqs_missing =
    "the fauxqs peer is not running (scripts/test-peers/fauxqs.sh start <dir>; "
    "TOMODACHI_TEST_PEERS_DIR=<dir>)";

/// The endpoint URL of the running fauxqs peer; empty when there is none.
inline std::string fauxqs_endpoint() {
  const auto env = fauxqs_env();
  const auto it = env.find("TOMODACHI_TEST_AWS_ENDPOINT");
  return it == env.end() ? std::string() : it->second;
}

/// A client of the peer at `endpoint` (region eu-west-1, placeholder keys).
inline tomodachi::aws::AwsClientConfig fauxqs_client_config(const std::string& endpoint) {
  tomodachi::aws::AwsClientConfig config;
  config.credentials.region = "eu-west-1";
  config.credentials.access_key_id = "AKIDEXAMPLE";
  config.credentials.secret_access_key = "secret";
  config.sns_endpoint = endpoint;
  config.sqs_endpoint = endpoint;
  return config;
}

}  // namespace aws_test
