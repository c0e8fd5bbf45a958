#pragma once
// Region and credential resolution in the order of the AWS SDKs: explicit options, the
// environment, the shared credentials and config files (AWS_PROFILE), the container
// credentials endpoint (ECS/EKS) and the instance metadata service (IMDSv2). Temporary
// credentials are refreshed before they expire.

#include "aws/http_client.hpp"
#include "aws/sigv4.hpp"

#include <tomodachi/task.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tomodachi::aws {

/// Explicit settings (options `aws_sns_sqs.*`); unset members fall through to the chain.
struct CredentialSettings {
  std::optional<std::string> region;
  std::optional<std::string> access_key_id;
  std::optional<std::string> secret_access_key;
  std::optional<std::string> session_token;
};

/// One `[section]` of an AWS ini file: key → value.
using IniSection = std::map<std::string, std::string>;
/// Parses the AWS shared credentials / config file format; keys lower-cased, values
/// trimmed, nested (indented) sub-sections skipped.
std::map<std::string, IniSection> parse_aws_ini(std::string_view text);

/// The profile name: AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default".
std::string aws_profile_name();

/// The region: settings, AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region` in
/// the config file. nullopt when none is set.
std::optional<std::string> resolve_region(const CredentialSettings& settings);

/// ISO 8601 UTC time (`2024-04-05T19:34:38Z`, fractions and offsets accepted).
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

/// How long credentials whose `Expiration` cannot be parsed are used (after the refresh
/// margin): they are temporary, so they are fetched again soon rather than never.
inline constexpr std::chrono::minutes unparsable_expiration_lifetime{5};

/// Resolves credentials once, caches them and refreshes temporary ones ahead of expiry.
class CredentialProvider {
 public:
  CredentialProvider(CredentialSettings settings, std::shared_ptr<HttpClient> http);
  ~CredentialProvider();

  /// Current credentials. Throws AwsCredentialsError (`Unable to locate credentials`,
  /// `Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY`, ...).
  Task<Credentials> get();

  /// Forgets cached credentials (after the service rejected them).
  void invalidate();

  /// Where the current credentials came from: `explicit`, `env`, `shared-credentials-file`,
  /// `config-file`, `container-role`, `iam-role` ("" before the first resolution).
  const std::string& source() const noexcept;

  /// Temporary credentials are refreshed when they expire within this margin.
  static constexpr std::chrono::minutes refresh_margin{10};

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace tomodachi::aws
