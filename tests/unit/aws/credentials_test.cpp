// The credential chain: explicit settings, environment, shared files with profiles, the
// container endpoint (with refresh before expiry) and IMDSv2, against local HTTP servers.

#include "aws/credentials.hpp"
#include "aws/api.hpp"
#include "mini_http_server.hpp"
#include "peer_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace aws = tomodachi::aws;
using aws_test::run;
using std::chrono::system_clock;

namespace {

std::string iso8601(system_clock::time_point time) {
  const auto seconds = system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

class CredentialChain : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name :
         {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
          "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
          "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
          "AWS_EC2_METADATA_SERVICE_ENDPOINT"}) {
      ::unsetenv(name);
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("tomodachi-aws-credentials-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    ::setenv("AWS_SHARED_CREDENTIALS_FILE", (dir_ / "credentials").c_str(), 1);
    ::setenv("AWS_CONFIG_FILE", (dir_ / "config").c_str(), 1);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  aws::Credentials resolve(aws::CredentialSettings settings = {}) {
    aws::CredentialProvider provider(settings, http());
    return run(io_, provider.get());
  }

  std::shared_ptr<aws::HttpClient> http() {
    return std::make_shared<aws::HttpClient>(io_.get_executor());
  }

  boost::asio::io_context io_;
  std::filesystem::path dir_;
};

}  // namespace

TEST(AwsIni, ParsesSectionsAndSkipsNestedValues) {
  const auto sections = aws::parse_aws_ini(
      "# comment\n[default]\naws_access_key_id = AK\nAWS_Secret_Access_Key=SK \n\n[profile "
      "dev]\nregion = eu-north-1\n"
      "s3 =\n  max_concurrent_requests = 10\nregion_after = x\n; c\n");
  EXPECT_EQ(sections.at("default").at("aws_access_key_id"), "AK");
  EXPECT_EQ(sections.at("default").at("aws_secret_access_key"), "SK");
  EXPECT_EQ(sections.at("profile dev").at("region"), "eu-north-1");
  EXPECT_FALSE(sections.at("profile dev").contains("max_concurrent_requests"));
  EXPECT_EQ(sections.at("profile dev").at("region_after"), "x");
}

TEST(AwsIso8601, Parses) {
  EXPECT_EQ(aws::parse_iso8601("1970-01-01T00:01:00Z"), system_clock::from_time_t(60));
  EXPECT_EQ(aws::parse_iso8601("1970-01-01T01:01:00.123+01:00"), system_clock::from_time_t(60));
  EXPECT_FALSE(aws::parse_iso8601("yesterday"));
}

TEST_F(CredentialChain, ExplicitWinsOverEnvironment) {
  ::setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
  auto credentials = resolve({std::nullopt, "OPTKEY", "OPTSECRET", std::nullopt});
  EXPECT_EQ(credentials.access_key_id, "OPTKEY");
  credentials = resolve();
  EXPECT_EQ(credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(credentials.secret_access_key, "ENVSECRET");
  ::setenv("AWS_SESSION_TOKEN", "TOKEN", 1);
  EXPECT_EQ(resolve().session_token, "TOKEN");
}

TEST_F(CredentialChain, PartialCredentialsAreErrors) {
  try {
    resolve({std::nullopt, "OPTKEY", std::nullopt, std::nullopt});
    FAIL();
  } catch (const aws::AwsCredentialsError& error) {
    EXPECT_STREQ(error.what(),
                 "Partial credentials found in explicit, missing: aws_secret_access_key");
  }
  ::setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
  try {
    resolve();
    FAIL();
  } catch (const aws::AwsCredentialsError& error) {
    EXPECT_STREQ(error.what(), "Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY");
  }
}

TEST_F(CredentialChain, SharedFilesAndProfiles) {
  write("credentials",
        "[default]\naws_access_key_id=DEFKEY\naws_secret_access_key=DEFSECRET\n"
        "[dev]\naws_access_key_id=DEVKEY\naws_secret_access_key=DEVSECRET\naws_session_token="
        "DEVTOKEN\n");
  write("config",
        "[default]\nregion=eu-west-1\n[profile dev]\nregion=eu-north-1\n"
        "[profile cfg]\naws_access_key_id=CFGKEY\naws_secret_access_key=CFGSECRET\n");
  EXPECT_EQ(resolve().access_key_id, "DEFKEY");
  EXPECT_EQ(aws::resolve_region({}), "eu-west-1");
  ::setenv("AWS_PROFILE", "dev", 1);
  const auto credentials = resolve();
  EXPECT_EQ(credentials.access_key_id, "DEVKEY");
  EXPECT_EQ(credentials.session_token, "DEVTOKEN");
  EXPECT_EQ(aws::resolve_region({}), "eu-north-1");
  ::setenv("AWS_DEFAULT_REGION", "us-east-2", 1);
  EXPECT_EQ(aws::resolve_region({}), "us-east-2");
  ::setenv("AWS_REGION", "us-west-2", 1);
  EXPECT_EQ(aws::resolve_region({}), "us-west-2");
  EXPECT_EQ(aws::resolve_region({"ap-south-1"}), "ap-south-1");
  ::setenv("AWS_PROFILE", "cfg", 1);
  EXPECT_EQ(resolve().access_key_id, "CFGKEY");
}

TEST_F(CredentialChain, NothingFound) {
  try {
    resolve();
    FAIL();
  } catch (const aws::AwsCredentialsError& error) {
    EXPECT_STREQ(error.what(), "Unable to locate credentials");
  }
}

TEST_F(CredentialChain, ContainerEndpointWithTokenAndRefreshBeforeExpiry) {
  int served = 0;
  aws_test::MiniHttpServer server(io_, [&](const aws_test::RecordedRequest&) {
    ++served;
    // First answer expires within the refresh margin, the second one later.
    const auto expiration =
        system_clock::now() + (served == 1 ? std::chrono::minutes(5) : std::chrono::hours(6));
    return aws_test::CannedResponse{
        200, R"({"AccessKeyId": "CKEY)" + std::to_string(served) +
                 R"(", "SecretAccessKey": "CSECRET", "Token": "CTOKEN", "Expiration": ")" +
                 iso8601(expiration) + "\"}"};
  });
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (server.url() + "/v2/credentials/abc").c_str(), 1);
  write("token", "secret-token\n");
  ::setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (dir_ / "token").c_str(), 1);
  aws::CredentialProvider provider({}, http());
  auto credentials = run(io_, provider.get());
  EXPECT_EQ(credentials.access_key_id, "CKEY1");
  EXPECT_EQ(credentials.session_token, "CTOKEN");
  EXPECT_EQ(provider.source(), "container-role");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/v2/credentials/abc");
  EXPECT_EQ(server.requests()[0].headers.at("authorization"), "secret-token");
  // Expiring within the margin: the next use fetches new credentials.
  credentials = run(io_, provider.get());
  EXPECT_EQ(credentials.access_key_id, "CKEY2");
  // Fresh now: cached.
  credentials = run(io_, provider.get());
  EXPECT_EQ(credentials.access_key_id, "CKEY2");
  EXPECT_EQ(served, 2);
}

TEST_F(CredentialChain, InstanceMetadataV2) {
  aws_test::MiniHttpServer server(io_, [&](const aws_test::RecordedRequest& request) {
    if (request.method == "PUT" && request.target == "/latest/api/token")
      return aws_test::CannedResponse{200, "IMDSTOKEN"};
    const auto token = request.headers.find("x-aws-ec2-metadata-token");
    if (token == request.headers.end() || token->second != "IMDSTOKEN")
      return aws_test::CannedResponse{401, ""};
    if (request.target == "/latest/meta-data/iam/security-credentials/")
      return aws_test::CannedResponse{200, "my-role\n"};
    if (request.target == "/latest/meta-data/iam/security-credentials/my-role") {
      return aws_test::CannedResponse{
          200, R"({"Code": "Success", "AccessKeyId": "IKEY", "SecretAccessKey": "ISECRET",)"
               R"( "Token": "ITOKEN", "Expiration": ")" +
                   iso8601(system_clock::now() + std::chrono::hours(6)) + "\"}"};
    }
    return aws_test::CannedResponse{404, ""};
  });
  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  ::setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url().c_str(), 1);
  aws::CredentialProvider provider({}, http());
  const auto credentials = run(io_, provider.get());
  EXPECT_EQ(credentials.access_key_id, "IKEY");
  EXPECT_EQ(credentials.session_token, "ITOKEN");
  EXPECT_EQ(provider.source(), "iam-role");
  ASSERT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.requests()[0].headers.at("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
}

TEST_F(CredentialChain, ContainerFullUriOverHttpOnlyToLoopbackAndEcsHosts) {
  // As botocore: a plain-http FULL_URI may not send the authorization token anywhere.
  for (const char* url : {"http://169.254.169.254/credentials", "http://example.com/credentials",
                          "http://10.0.0.1:8080/credentials"}) {
    ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    try {
      resolve();
      ADD_FAILURE() << url;
    } catch (const aws::AwsCredentialsError& error) {
      EXPECT_NE(std::string(error.what()).find("Unsupported host"), std::string::npos)
          << error.what();
    }
  }
  // Loopback addresses other than 127.0.0.1 are loopback too.
  aws_test::MiniHttpServer server(io_, [](const aws_test::RecordedRequest&) {
    return aws_test::CannedResponse{
        200, R"({"AccessKeyId": "LKEY", "SecretAccessKey": "S", "Token": "T"})"};
  });
  const auto port = server.url().substr(server.url().rfind(':'));
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", ("http://localhost" + port + "/creds").c_str(), 1);
  EXPECT_EQ(resolve().access_key_id, "LKEY");
}

TEST_F(CredentialChain, AnUnparsableExpirationMeansRefreshSoon) {
  aws_test::MiniHttpServer server(io_, [](const aws_test::RecordedRequest&) {
    return aws_test::CannedResponse{
        200, R"({"AccessKeyId": "CKEY", "SecretAccessKey": "S", "Token": "T",)"
             R"( "Expiration": "tomorrow at noon"})"};
  });
  ::setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", (server.url() + "/creds").c_str(), 1);
  const auto credentials = resolve();
  EXPECT_EQ(credentials.access_key_id, "CKEY");
  ASSERT_TRUE(credentials.expiration);  // not "never expires"
  EXPECT_LT(*credentials.expiration, system_clock::now() + aws::CredentialProvider::refresh_margin +
                                         std::chrono::minutes(6));
}
