#include "aws/credentials.hpp"

#include "aws/api.hpp"
#include "aws/ascii.hpp"
#include "core/async.hpp"

#include <tomodachi/json.hpp>
#include <tomodachi/logging.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/json.hpp>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

namespace tomodachi::aws {
namespace asio = boost::asio;
using std::chrono::system_clock;

namespace {

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && ascii::is_space(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && ascii::is_space(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

std::string home_path(const char* override_variable, std::string_view default_relative) {
  if (auto path = env(override_variable)) {
    if (path->starts_with("~/")) {
      if (auto home = env("HOME")) return *home + path->substr(1);
    }
    return *path;
  }
  const auto home = env("HOME");
  return (home ? *home : std::string(".")) + "/" + std::string(default_relative);
}

std::optional<std::map<std::string, IniSection>> read_ini(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::stringstream text;
  text << file.rdbuf();
  return parse_aws_ini(text.str());
}

const IniSection* find_profile(const std::map<std::string, IniSection>& sections,
                               const std::string& profile, bool config_file) {
  if (config_file && profile != "default") {
    const auto it = sections.find("profile " + profile);
    return it == sections.end() ? nullptr : &it->second;
  }
  auto it = sections.find(profile);
  if (it == sections.end() && config_file) it = sections.find("profile " + profile);
  return it == sections.end() ? nullptr : &it->second;
}

std::optional<std::string> lookup(const IniSection& section, const char* key) {
  const auto it = section.find(key);
  if (it == section.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// Hosts a container credentials URL may name over plain http (as botocore and the AWS
// SDKs allow): loopback addresses and the ECS / EKS pod identity agent addresses.
bool allowed_container_host(const std::string& host) {
  if (host == "localhost" || host == "169.254.170.2" || host == "169.254.170.23" ||
      host == "fd00:ec2::23")
    return true;
  boost::system::error_code error;
  const auto address = asio::ip::make_address(host, error);
  return !error && address.is_loopback();
}

Credentials from_json_document(std::string_view body, std::string_view where) {
  std::error_code error;
  const auto document = json::loads(body, error);
  if (error || !document.is_object()) {
    throw AwsCredentialsError("Unable to parse credentials from " + std::string(where));
  }
  const auto& object = document.as_object();
  const auto text = [&](const char* key) -> std::string {
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
  };
  if (const auto code = text("Code"); !code.empty() && code != "Success") {
    throw AwsCredentialsError("Credentials from " + std::string(where) + " not available: " + code);
  }
  Credentials credentials{text("AccessKeyId"), text("SecretAccessKey"), text("Token"),
                          std::nullopt};
  if (const auto expiration = text("Expiration"); !expiration.empty()) {
    credentials.expiration = parse_iso8601(expiration);
    if (!credentials.expiration) {
      // Temporary all the same: used for a few minutes, then fetched again (never "forever").
      credentials.expiration =
          system_clock::now() + CredentialProvider::refresh_margin + unparsable_expiration_lifetime;
      Logger("tomodachi.awssnssqs")
          .warning("Unparsable Expiration '" + expiration + "' in the credentials from " +
                   std::string(where) + " - refreshing them in " +
                   std::to_string(unparsable_expiration_lifetime.count()) + " minutes");
    }
  }
  if (!credentials.complete()) {
    throw AwsCredentialsError("Incomplete credentials from " + std::string(where));
  }
  return credentials;
}

}  // namespace

std::map<std::string, IniSection> parse_aws_ini(std::string_view text) {
  std::map<std::string, IniSection> sections;
  IniSection* current = nullptr;
  bool in_nested = false;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const auto raw = text.substr(start, end - start);
    start = end + 1;
    const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    const auto line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      std::string name(trim(line.substr(1, line.size() - 2)));
      current = &sections[name];
      in_nested = false;
      continue;
    }
    if (current == nullptr) continue;
    if (indented && in_nested) continue;  // `s3 =\n  max_concurrent_requests = 10`
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    std::string key(trim(line.substr(0, equals)));
    for (auto& c : key) c = ascii::to_lower(c);
    const auto value = trim(line.substr(equals + 1));
    in_nested = value.empty();
    (*current)[key] = std::string(value);
  }
  return sections;
}

std::string aws_profile_name() {
  if (auto profile = env("AWS_PROFILE")) return *profile;
  if (auto profile = env("AWS_DEFAULT_PROFILE")) return *profile;
  return "default";
}

std::optional<std::string> resolve_region(const CredentialSettings& settings) {
  if (settings.region && !settings.region->empty()) return settings.region;
  if (auto region = env("AWS_REGION")) return region;
  if (auto region = env("AWS_DEFAULT_REGION")) return region;
  if (const auto config = read_ini(home_path("AWS_CONFIG_FILE", ".aws/config"))) {
    if (const auto* profile = find_profile(*config, aws_profile_name(), true)) {
      if (auto region = lookup(*profile, "region")) return region;
    }
  }
  return std::nullopt;
}

std::optional<system_clock::time_point> parse_iso8601(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char separator = 0;
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &year, &month, &day, &separator,
                  &hour, &minute, &second, &consumed) != 7 ||
      (separator != 'T' && separator != 't' && separator != ' ')) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  auto time = system_clock::from_time_t(timegm(&tm));
  std::string_view rest = text.substr(static_cast<std::size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && ascii::is_digit(static_cast<unsigned char>(rest.front())))
      rest.remove_prefix(1);
  }
  if (rest.size() >= 6 && (rest.front() == '+' || rest.front() == '-')) {
    const int sign = rest.front() == '+' ? 1 : -1;
    const int hours = std::atoi(std::string(rest.substr(1, 2)).c_str());
    const int minutes = std::atoi(std::string(rest.substr(4, 2)).c_str());
    time -= std::chrono::minutes(sign * (hours * 60 + minutes));
  }
  return time;
}

struct CredentialProvider::Impl : std::enable_shared_from_this<CredentialProvider::Impl> {
  CredentialSettings settings;
  std::shared_ptr<HttpClient> http;
  std::optional<Credentials> cached;
  std::string source;
  core::AsyncMutex resolution;  // one resolution at a time; the others wait for its result

  bool fresh(const Credentials& credentials) const {
    return !credentials.expiration ||
           *credentials.expiration - system_clock::now() > refresh_margin;
  }

  static bool usable(const Credentials& credentials) {
    return !credentials.expiration || *credentials.expiration > system_clock::now();
  }

  std::optional<Credentials> from_explicit() {
    if (!settings.access_key_id && !settings.secret_access_key) return std::nullopt;
    if (!settings.access_key_id) {
      throw AwsCredentialsError(
          "Partial credentials found in explicit, missing: aws_access_key_id");
    }
    if (!settings.secret_access_key) {
      throw AwsCredentialsError(
          "Partial credentials found in explicit, missing: aws_secret_access_key");
    }
    source = "explicit";
    return Credentials{*settings.access_key_id, *settings.secret_access_key,
                       settings.session_token.value_or(""), std::nullopt};
  }

  std::optional<Credentials> from_environment() {
    const auto key = env("AWS_ACCESS_KEY_ID");
    const auto secret = env("AWS_SECRET_ACCESS_KEY");
    if (!key && !secret) return std::nullopt;
    if (!key)
      throw AwsCredentialsError("Partial credentials found in env, missing: AWS_ACCESS_KEY_ID");
    if (!secret)
      throw AwsCredentialsError("Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY");
    auto token = env("AWS_SESSION_TOKEN");
    if (!token) token = env("AWS_SECURITY_TOKEN");
    source = "env";
    return Credentials{*key, *secret, token.value_or(""), std::nullopt};
  }

  std::optional<Credentials> from_files() {
    const auto profile = aws_profile_name();
    for (const bool config_file : {false, true}) {
      const auto path = config_file ? home_path("AWS_CONFIG_FILE", ".aws/config")
                                    : home_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
      const auto sections = read_ini(path);
      if (!sections) continue;
      const auto* section = find_profile(*sections, profile, config_file);
      if (section == nullptr) continue;
      const auto key = lookup(*section, "aws_access_key_id");
      const auto secret = lookup(*section, "aws_secret_access_key");
      if (!key && !secret) continue;
      if (!key || !secret) {
        throw AwsCredentialsError(
            "Partial credentials found in " + path + " (profile " + profile +
            "), missing: " + (key ? "aws_secret_access_key" : "aws_access_key_id"));
      }
      source = config_file ? "config-file" : "shared-credentials-file";
      return Credentials{*key, *secret, lookup(*section, "aws_session_token").value_or(""),
                         std::nullopt};
    }
    return std::nullopt;
  }

  Task<std::optional<Credentials>> from_container() {
    std::string url_text;
    if (auto relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
      url_text = "http://169.254.170.2" + *relative;
    } else if (auto full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
      url_text = *full;
    } else {
      co_return std::nullopt;
    }
    const auto url = Url::parse(url_text);
    if (!url.tls && !allowed_container_host(url.host)) {
      throw AwsCredentialsError(
          "Unsupported host '" + url.host +
          "' in AWS_CONTAINER_CREDENTIALS_FULL_URI: over http only a loopback address, "
          "169.254.170.2, 169.254.170.23 or fd00:ec2::23 (https: any host)");
    }
    HttpRequest request;
    request.method = "GET";
    request.target = url.path + (url.query.empty() ? "" : "?" + url.query);
    request.headers.push_back({"Accept", "application/json"});
    std::optional<std::string> token;
    if (auto token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
      std::ifstream file(*token_file);
      std::stringstream text;
      text << file.rdbuf();
      token = std::string(trim(text.str()));
    } else {
      token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    }
    if (token) request.headers.push_back({"Authorization", *token});
    std::exception_ptr last_error;
    for (int attempt = 0; attempt < 3; ++attempt) {
      try {
        auto response = co_await http->send(url, request, std::chrono::seconds(2));
        if (response.status != 200) {
          throw AwsCredentialsError("container credentials endpoint " + url_text + " answered " +
                                    std::to_string(response.status));
        }
        source = "container-role";
        co_return from_json_document(response.body, "container credentials endpoint " + url_text);
      } catch (...) {
        last_error = std::current_exception();
      }
    }
    try {
      std::rethrow_exception(last_error);
    } catch (const std::exception& error) {
      throw AwsCredentialsError(std::string("Error retrieving container credentials: ") +
                                error.what());
    }
  }

  Task<std::optional<Credentials>> from_instance_metadata() {
    if (const auto disabled = env("AWS_EC2_METADATA_DISABLED");
        disabled && (*disabled == "true" || *disabled == "TRUE")) {
      co_return std::nullopt;
    }
    std::string base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254/");
    if (!base.ends_with('/')) base += '/';
    const auto url = Url::parse(base);
    const auto timeout = std::chrono::seconds(1);
    std::optional<std::string> token;
    try {
      HttpRequest put{"PUT",
                      url.path + "latest/api/token",
                      {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}},
                      ""};
      auto response = co_await http->send(url, put, timeout);
      if (response.status == 200) {
        token = response.body;
      } else if (response.status != 403 && response.status != 404 && response.status != 405) {
        co_return std::nullopt;
      }
    } catch (const AwsHttpError&) {
      co_return std::nullopt;  // no metadata service here
    }
    HttpRequest get{"GET", url.path + "latest/meta-data/iam/security-credentials/", {}, ""};
    if (token) get.headers.push_back({"X-aws-ec2-metadata-token", *token});
    std::string role;
    try {
      auto response = co_await http->send(url, get, timeout);
      if (response.status != 200) co_return std::nullopt;
      role = std::string(trim(response.body.substr(0, response.body.find('\n'))));
    } catch (const AwsHttpError&) {
      co_return std::nullopt;
    }
    if (role.empty()) co_return std::nullopt;
    get.target += role;
    auto response = co_await http->send(url, get, timeout);
    if (response.status != 200) {
      throw AwsCredentialsError("instance metadata service answered " +
                                std::to_string(response.status) + " for role " + role);
    }
    source = "iam-role";
    co_return from_json_document(response.body, "instance metadata service (role " + role + ")");
  }

  Task<Credentials> resolve() {
    if (auto credentials = from_explicit()) co_return *credentials;
    if (auto credentials = from_environment()) co_return *credentials;
    if (auto credentials = from_files()) co_return *credentials;
    if (auto credentials = co_await from_container()) co_return *credentials;
    if (auto credentials = co_await from_instance_metadata()) co_return *credentials;
    throw AwsCredentialsError("Unable to locate credentials");
  }

  Task<Credentials> get() {
    auto self = shared_from_this();
    if (cached && fresh(*cached)) co_return *cached;
    auto resolving = co_await resolution.lock();
    if (cached && fresh(*cached)) co_return *cached;  // resolved while this call waited
    std::exception_ptr failure;
    try {
      cached = co_await resolve();
    } catch (...) {
      failure = std::current_exception();
    }
    resolving.unlock();
    if (failure) {
      // A failed early refresh keeps the still valid credentials.
      if (cached && usable(*cached)) co_return *cached;
      std::rethrow_exception(failure);
    }
    co_return *cached;
  }
};

CredentialProvider::CredentialProvider(CredentialSettings settings,
                                       std::shared_ptr<HttpClient> http)
    : impl_(std::make_shared<Impl>()) {
  impl_->settings = std::move(settings);
  impl_->http = std::move(http);
}

CredentialProvider::~CredentialProvider() = default;

Task<Credentials> CredentialProvider::get() {
  auto impl = impl_;
  co_return co_await impl->get();
}

void CredentialProvider::invalidate() { impl_->cached.reset(); }

const std::string& CredentialProvider::source() const noexcept { return impl_->source; }

}  // namespace tomodachi::aws
