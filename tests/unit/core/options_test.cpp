#include <tomodachi/options.hpp>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <map>
#include <string>
#include <vector>

using tomodachi::OptionError;
using tomodachi::Options;

namespace {
boost::json::object object(std::string_view text) { return boost::json::parse(text).as_object(); }
}  // namespace

TEST(Options, DefaultsMatchUpstream) {
  const auto d = Options().asdict();
  EXPECT_EQ(d.at("http.port"), 9700);
  EXPECT_EQ(d.at("http.host"), "0.0.0.0");
  EXPECT_EQ(d.at("http.reuse_port"), true);
  EXPECT_EQ(d.at("http.content_type"), "text/plain; charset=utf-8");
  EXPECT_EQ(d.at("http.charset"), "utf-8");
  EXPECT_EQ(d.at("http.client_max_size"), 104857600);
  EXPECT_EQ(d.at("http.termination_grace_period_seconds"), 30);
  EXPECT_EQ(d.at("http.access_log"), true);
  EXPECT_EQ(d.at("http.real_ip_from"), boost::json::array());
  EXPECT_EQ(d.at("http.real_ip_header"), "X-Forwarded-For");
  EXPECT_EQ(d.at("http.keepalive_timeout"), 0);
  EXPECT_EQ(d.at("http.keepalive_expiry"), 0);
  EXPECT_TRUE(d.at("http.max_keepalive_time").is_null());
  EXPECT_TRUE(d.at("http.max_keepalive_requests").is_null());
  EXPECT_EQ(d.at("http.server_header"), "tomodachi");
  for (const char* key :
       {"aws_sns_sqs.region_name", "aws_sns_sqs.aws_access_key_id",
        "aws_sns_sqs.aws_secret_access_key", "aws_sns_sqs.sns_kms_master_key_id",
        "aws_sns_sqs.sqs_kms_master_key_id", "aws_sns_sqs.sqs_kms_data_key_reuse_period",
        "aws_sns_sqs.queue_policy", "aws_sns_sqs.wildcard_queue_policy", "aws_endpoint_urls.sns",
        "aws_endpoint_urls.sqs", "aws_endpoint_urls.sts"}) {
    EXPECT_TRUE(d.at(key).is_null()) << key;
  }
  EXPECT_EQ(d.at("aws_sns_sqs.topic_prefix"), "");
  EXPECT_EQ(d.at("aws_sns_sqs.queue_name_prefix"), "");
  EXPECT_EQ(d.at("amqp.host"), "127.0.0.1");
  EXPECT_EQ(d.at("amqp.port"), 5672);
  EXPECT_EQ(d.at("amqp.login"), "guest");
  EXPECT_EQ(d.at("amqp.password"), "guest");
  EXPECT_EQ(d.at("amqp.exchange_name"), "amq.topic");
  EXPECT_EQ(d.at("amqp.routing_key_prefix"), "");
  EXPECT_EQ(d.at("amqp.queue_name_prefix"), "");
  EXPECT_EQ(d.at("amqp.virtualhost"), "/");
  EXPECT_EQ(d.at("amqp.ssl"), false);
  EXPECT_EQ(d.at("amqp.heartbeat"), 60);
  EXPECT_EQ(d.at("amqp.queue_ttl"), 86400);
  EXPECT_EQ(d.at("amqp.qos.queue_prefetch_count"), 100);
  EXPECT_EQ(d.at("amqp.qos.global_prefetch_count"), 400);
  EXPECT_EQ(d.at("watcher.ignored_dirs"), boost::json::array());
  EXPECT_EQ(d.at("watcher.watched_file_endings"), boost::json::array());
}

TEST(Options, FalsyQueueTtlMeansNoExpiry) {
  // wire.md §2.4: `x-expires` only when queue_ttl is truthy.
  EXPECT_EQ(Options::from_json(object(R"({"amqp.queue_ttl": null})")).amqp.queue_ttl, std::nullopt);
  EXPECT_EQ(Options::from_json(object(R"({"amqp": {"queue_ttl": false}})")).amqp.queue_ttl,
            std::nullopt);
  EXPECT_EQ(Options::from_json(object(R"({"amqp.queue_ttl": 60})")).amqp.queue_ttl, 60);
  EXPECT_THROW(Options::from_json(object(R"({"amqp.queue_ttl": "1 day"})")),
               tomodachi::OptionError);
  EXPECT_THROW(Options::from_json(object(R"({"amqp.heartbeat": null})")), tomodachi::OptionError);
}

TEST(Options, DottedNestedAndMixedConstruction) {
  auto options =
      Options::from_json(object(R"({"http": {"keepalive_timeout": 5}, "http.port": 555})"));
  EXPECT_EQ(options.http.keepalive_timeout, 5);
  EXPECT_EQ(options.http.port, 555);
  options = Options::from_json(object(R"({"amqp": {"qos.queue_prefetch_count": 4711}})"));
  EXPECT_EQ(options.amqp.qos.queue_prefetch_count, 4711);
  EXPECT_EQ(options.amqp.qos.global_prefetch_count, 400);
  options = Options::from_json(object(R"({"amqp.qos": {"global_prefetch_count": 1}})"));
  EXPECT_EQ(options.amqp.qos.global_prefetch_count, 1);
}

TEST(Options, GetAndSetByDottedKey) {
  Options options;
  options.set("http.port", 1234);
  EXPECT_EQ(options.http.port, 1234);
  EXPECT_EQ(options.get("http.port"), 1234);
  EXPECT_EQ(options.get("amqp.qos").as_object().at("queue_prefetch_count"), 100);
  EXPECT_EQ(options.get("http").as_object().at("port"), 1234);
  options.set("http.port", nullptr);
  EXPECT_FALSE(options.http.port.has_value());
  options.set("http.real_ip_from", "127.0.0.1");
  EXPECT_EQ(options.http.real_ip_from, std::vector<std::string>{"127.0.0.1"});
  options.set("http.client_max_size", "100MB");
  EXPECT_EQ(std::get<std::string>(options.http.client_max_size), "100MB");
  options.set("http.access_log", "/tmp/access.log");
  EXPECT_EQ(std::get<std::string>(options.http.access_log), "/tmp/access.log");
  options.set("aws_sns_sqs.sns_kms_master_key_id", false);
  EXPECT_EQ(options.aws_sns_sqs.sns_kms_master_key_id, std::string());
}

TEST(Options, LegacyAliases) {
  auto options =
      Options::from_json(object(R"({"aws": {"endpoint_url": "http://localhost:4566"}})"));
  EXPECT_EQ(options.aws_endpoint_urls.sns, "http://localhost:4566");
  EXPECT_EQ(options.aws_endpoint_urls.sqs, "http://localhost:4566");
  EXPECT_EQ(options.aws_endpoint_urls.sts, "http://localhost:4566");
  options =
      Options::from_json(object(R"({"aws": {"aws_sqs_endpoint_url": "http://localhost:4566"}})"));
  EXPECT_FALSE(options.aws_endpoint_urls.sns.has_value());
  EXPECT_EQ(options.aws_endpoint_urls.sqs, "http://localhost:4566");
  EXPECT_FALSE(options.aws_endpoint_urls.sts.has_value());
  options = Options::from_json(
      object(R"({"aws.region_name": "eu-west-1", "aws.kms_master_key_id": "alias/x"})"));
  EXPECT_EQ(options.aws_sns_sqs.region_name, "eu-west-1");
  EXPECT_EQ(options.aws_sns_sqs.sns_kms_master_key_id, "alias/x");
  EXPECT_EQ(options.aws_sns_sqs.sqs_kms_master_key_id, "alias/x");
  options = Options::from_json(object(
      R"({"aws_sns_sqs": {"endpoint_urls": {"sts": "http://sts"}, "access_key_id": "AK"}})"));
  EXPECT_EQ(options.aws_endpoint_urls.sts, "http://sts");
  EXPECT_EQ(options.aws_sns_sqs.aws_access_key_id, "AK");
  options = Options::from_json(object(R"({"http": {"max_upload_size": 2048}})"));
  EXPECT_EQ(std::get<std::int64_t>(options.http.client_max_size), 2048);
  options = Options::from_json(object(R"({"aws": {"aws_kms_data_key_reuse_period": 300}})"));
  EXPECT_EQ(options.aws_sns_sqs.sqs_kms_data_key_reuse_period, 300);
}

TEST(Options, UnknownKeysAreRejectedWithTheirName) {
  try {
    Options::from_json(object(R"({"http": {"port": 1, "foo": 2}})"));
    FAIL() << "no error";
  } catch (const OptionError& e) {
    EXPECT_NE(std::string(e.what()).find("'http.foo'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Options().set("nope", 1), OptionError);
  EXPECT_THROW(Options().get("http.nope"), OptionError);
  EXPECT_FALSE(Options::has_key("http.nope"));
  EXPECT_TRUE(Options::has_key("amqp.qos.queue_prefetch_count"));
  EXPECT_TRUE(Options::has_key("aws.endpoint_url"));
}

TEST(Options, WrongTypesAreRejectedWithKeyAndValue) {
  try {
    Options().set("http.port", "80");
    FAIL() << "no error";
  } catch (const OptionError& e) {
    EXPECT_NE(std::string(e.what()).find("http.port"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("\"80\""), std::string::npos);
  }
  EXPECT_THROW(Options().set("amqp.ssl", 1), OptionError);
  EXPECT_THROW(Options().set("http", 1), OptionError);
}

// ---- every legacy alias of spec/service.md §2.2, table-driven ------------------------
// Written from the spec's list (not from the implementation's table): each alias, given
// as a dotted key, as nested objects and through Options::set, changes exactly the
// canonical keys it names and nothing else.

namespace {

struct AliasCase {
  std::string alias;
  std::vector<std::string> canonical;
};

std::vector<AliasCase> spec_aliases() {
  const std::vector<std::string> all_endpoints = {"aws_endpoint_urls.sns", "aws_endpoint_urls.sqs",
                                                  "aws_endpoint_urls.sts"};
  const std::vector<std::string> both_kms = {"aws_sns_sqs.sns_kms_master_key_id",
                                             "aws_sns_sqs.sqs_kms_master_key_id"};
  const std::string reuse = "aws_sns_sqs.sqs_kms_data_key_reuse_period";
  std::vector<AliasCase> cases = {
      // Top level `aws.*`.
      {"aws.region_name", {"aws_sns_sqs.region_name"}},
      {"aws.aws_region_name", {"aws_sns_sqs.region_name"}},
      {"aws.secret_access_key", {"aws_sns_sqs.aws_secret_access_key"}},
      {"aws.aws_secret_access_key", {"aws_sns_sqs.aws_secret_access_key"}},
      {"aws.access_key_id", {"aws_sns_sqs.aws_access_key_id"}},
      {"aws.aws_access_key_id", {"aws_sns_sqs.aws_access_key_id"}},
      {"aws.endpoint_url", all_endpoints},
      {"aws.aws_endpoint_url", all_endpoints},
      {"aws.topic_prefix", {"aws_sns_sqs.topic_prefix"}},
      {"aws.queue_name_prefix", {"aws_sns_sqs.queue_name_prefix"}},
      {"aws.queue_policy", {"aws_sns_sqs.queue_policy"}},
      {"aws.wildcard_queue_policy", {"aws_sns_sqs.wildcard_queue_policy"}},
      {"aws.aws_kms_master_key_id", both_kms},
      {"aws.kms_master_key_id", both_kms},
      {"aws.aws_sns_kms_master_key_id", {"aws_sns_sqs.sns_kms_master_key_id"}},
      {"aws.sns_kms_master_key_id", {"aws_sns_sqs.sns_kms_master_key_id"}},
      {"aws.aws_sqs_kms_master_key_id", {"aws_sns_sqs.sqs_kms_master_key_id"}},
      {"aws.sqs_kms_master_key_id", {"aws_sns_sqs.sqs_kms_master_key_id"}},
      {"aws.aws_sqs_kms_data_key_reuse_period", {reuse}},
      {"aws.aws_kms_data_key_reuse_period", {reuse}},
      {"aws.kms_data_key_reuse_period", {reuse}},
      // Inside `aws_sns_sqs`.
      {"aws_sns_sqs.aws_region_name", {"aws_sns_sqs.region_name"}},
      {"aws_sns_sqs.secret_access_key", {"aws_sns_sqs.aws_secret_access_key"}},
      {"aws_sns_sqs.access_key_id", {"aws_sns_sqs.aws_access_key_id"}},
      {"aws_sns_sqs.endpoint_url", all_endpoints},
      {"aws_sns_sqs.aws_endpoint_url", all_endpoints},
      {"aws_sns_sqs.aws_kms_master_key_id", both_kms},
      {"aws_sns_sqs.kms_master_key_id", both_kms},
      {"aws_sns_sqs.aws_sns_kms_master_key_id", {"aws_sns_sqs.sns_kms_master_key_id"}},
      {"aws_sns_sqs.aws_sqs_kms_master_key_id", {"aws_sns_sqs.sqs_kms_master_key_id"}},
      {"aws_sns_sqs.aws_sqs_kms_data_key_reuse_period", {reuse}},
      {"aws_sns_sqs.aws_kms_data_key_reuse_period", {reuse}},
      {"aws_sns_sqs.kms_data_key_reuse_period", {reuse}},
      // Inside `http`.
      {"http.max_buffer_size", {"http.client_max_size"}},
      {"http.max_upload_size", {"http.client_max_size"}},
  };
  // The per-endpoint forms, in both groups.
  for (const std::string group : {"aws", "aws_sns_sqs"}) {
    for (const std::string endpoint : {"sns", "sqs", "sts"}) {
      const std::vector<std::string> target = {"aws_endpoint_urls." + endpoint};
      cases.push_back({group + ".endpoint_urls." + endpoint, target});
      cases.push_back({group + ".aws_" + endpoint + "_endpoint_url", target});
      cases.push_back({group + "." + endpoint + "_endpoint_url", target});
    }
  }
  return cases;
}

/// A value of the canonical option's type, different from its default.
boost::json::value value_for(const std::string& canonical) {
  if (canonical == "aws_sns_sqs.sqs_kms_data_key_reuse_period") return 300;
  if (canonical == "http.client_max_size") return 2048;
  return "value-for-test";
}

/// The dotted keys whose value differs from a default-constructed Options.
std::map<std::string, boost::json::value> changed_keys(const Options& options) {
  const auto defaults = Options().asdict();
  std::map<std::string, boost::json::value> changed;
  for (const auto& member : options.asdict()) {
    if (defaults.at(member.key()) != member.value())
      changed[std::string(member.key())] = member.value();
  }
  return changed;
}

/// {"a": {"b": {"c": value}}} for "a.b.c".
boost::json::object nested(const std::string& dotted, const boost::json::value& value) {
  const auto dot = dotted.find('.');
  boost::json::object out;
  if (dot == std::string::npos) {
    out[dotted] = value;
  } else {
    out[dotted.substr(0, dot)] = nested(dotted.substr(dot + 1), value);
  }
  return out;
}

}  // namespace

TEST(Options, EveryLegacyAliasOfTheSpecSetsExactlyItsCanonicalKeys) {
  const auto cases = spec_aliases();
  EXPECT_EQ(cases.size(), 53u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.alias);
    const boost::json::value value = value_for(c.canonical.front());
    std::map<std::string, boost::json::value> expected;
    for (const auto& key : c.canonical) expected[key] = value;

    EXPECT_TRUE(Options::has_key(c.alias));

    boost::json::object dotted;
    dotted[c.alias] = value;
    EXPECT_EQ(changed_keys(Options::from_json(dotted)), expected) << "as a dotted key";
    EXPECT_EQ(changed_keys(Options::from_json(nested(c.alias, value))), expected)
        << "as nested objects";

    Options options;
    options.set(c.alias, value);
    EXPECT_EQ(changed_keys(options), expected) << "through Options::set";
    // Reading an alias answers the (first) canonical option.
    EXPECT_EQ(options.get(c.alias), value);
  }
}

TEST(Options, HealthKeysWithTheirDefaults) {
  const auto d = Options().asdict();
  EXPECT_EQ(d.at("health.enabled"), false);
  EXPECT_EQ(d.at("health.host"), "0.0.0.0");
  EXPECT_EQ(d.at("health.port"), nullptr);
  EXPECT_EQ(d.at("health.path_prefix"), "/");
  EXPECT_EQ(d.at("health.max_loop_lag"), 5);
  EXPECT_EQ(d.at("health.drain_delay"), 0);
  EXPECT_EQ(d.at("health.sqs_receive_max_age"), 60);

  auto options = Options::from_json(object(
      R"({"health": {"enabled": true, "port": 8081, "drain_delay": 2.5}, "health.path_prefix": "/h/"})"));
  EXPECT_TRUE(options.health.enabled);
  EXPECT_EQ(options.health.port, 8081);
  EXPECT_EQ(options.health.drain_delay, 2.5);
  EXPECT_EQ(options.health.path_prefix, "/h/");
  EXPECT_EQ(options.get("health.drain_delay"), 2.5);
}

TEST(Options, HealthValuesOfTheWrongKindNameTheKeyAndTheValue) {
  try {
    Options().set("health.max_loop_lag", -1);
    FAIL() << "no OptionError";
  } catch (const OptionError& error) {
    EXPECT_NE(std::string(error.what()).find("'health.max_loop_lag': -1"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(Options().set("health.drain_delay", "soon"), OptionError);
  EXPECT_THROW(Options().set("health.enabled", 1), OptionError);
  EXPECT_THROW(Options().set("health.livez", true), OptionError);
}
