// Options: dotted-key access, legacy aliases and JSON conversion (spec/service.md §2).
#include <tomodachi/options.hpp>

#include <boost/describe/class.hpp>
#include <boost/json.hpp>
#include <boost/mp11/algorithm.hpp>

#include <cmath>
#include <limits>
#include <map>

namespace tomodachi {

BOOST_DESCRIBE_STRUCT(Options::Http, (),
                      (port, host, reuse_port, content_type, charset, client_max_size,
                       termination_grace_period_seconds, access_log, real_ip_from, real_ip_header,
                       keepalive_timeout, keepalive_expiry, max_keepalive_time,
                       max_keepalive_requests, server_header, max_header_size,
                       max_request_line_size, header_read_timeout, body_read_timeout,
                       websocket_max_message_size, websocket_idle_timeout))
BOOST_DESCRIBE_STRUCT(Options::AwsSnsSqs, (),
                      (region_name, aws_access_key_id, aws_secret_access_key, topic_prefix,
                       queue_name_prefix, sns_kms_master_key_id, sqs_kms_master_key_id,
                       sqs_kms_data_key_reuse_period, queue_policy, wildcard_queue_policy))
BOOST_DESCRIBE_STRUCT(Options::AwsEndpointUrls, (), (sns, sqs, sts))
BOOST_DESCRIBE_STRUCT(Options::Amqp::Qos, (), (queue_prefetch_count, global_prefetch_count))
BOOST_DESCRIBE_STRUCT(Options::Amqp, (),
                      (host, port, login, password, exchange_name, routing_key_prefix,
                       queue_name_prefix, virtualhost, ssl, heartbeat, queue_ttl, qos))
BOOST_DESCRIBE_STRUCT(Options::Watcher, (), (ignored_dirs, watched_file_endings))
BOOST_DESCRIBE_STRUCT(Options::Health, (),
                      (enabled, host, port, path_prefix, max_loop_lag, drain_delay,
                       sqs_receive_max_age))
BOOST_DESCRIBE_STRUCT(Options, (), (http, aws_sns_sqs, aws_endpoint_urls, amqp, watcher, health))

namespace {

template <typename T>
constexpr bool is_group_v = boost::describe::has_describe_members<T>::value;

[[noreturn]] void bad_value(std::string_view key, const boost::json::value& value,
                            std::string_view expected) {
  throw OptionError("Invalid value for option '" + std::string(key) + "': " +
                    boost::json::serialize(value) + " (expected " + std::string(expected) + ")");
}

std::string as_string(std::string_view key, const boost::json::value& value) {
  if (!value.is_string()) bad_value(key, value, "a string");
  return std::string(value.get_string());
}

int as_int(std::string_view key, const boost::json::value& value) {
  if (value.is_int64() && value.get_int64() >= std::numeric_limits<int>::min() &&
      value.get_int64() <= std::numeric_limits<int>::max()) {
    return static_cast<int>(value.get_int64());
  }
  if (value.is_uint64() &&
      value.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    return static_cast<int>(value.get_uint64());
  }
  if (value.is_double() && std::trunc(value.get_double()) == value.get_double() &&
      std::abs(value.get_double()) <= std::numeric_limits<int>::max()) {
    return static_cast<int>(value.get_double());
  }
  bad_value(key, value, "an integer");
}

// Field conversions: JSON → typed member.
void assign(std::string_view key, std::string& field, const boost::json::value& value) {
  field = value.is_null() ? std::string() : as_string(key, value);
}
void assign(std::string_view key, int& field, const boost::json::value& value) {
  field = as_int(key, value);
}
void assign(std::string_view key, double& field, const boost::json::value& value) {
  if (value.is_int64()) {
    field = static_cast<double>(value.get_int64());
  } else if (value.is_uint64()) {
    field = static_cast<double>(value.get_uint64());
  } else if (value.is_double()) {
    field = value.get_double();
  } else {
    bad_value(key, value, "a number of seconds");
  }
  if (!std::isfinite(field) || field < 0) bad_value(key, value, "a number of seconds, 0 or more");
}
void assign(std::string_view key, bool& field, const boost::json::value& value) {
  if (!value.is_bool()) bad_value(key, value, "true or false");
  field = value.get_bool();
}
void assign(std::string_view key, std::optional<int>& field, const boost::json::value& value) {
  if (value.is_null() || (value.is_bool() && !value.get_bool())) {
    field.reset();
  } else {
    field = as_int(key, value);
  }
}
void assign(std::string_view key, std::optional<std::string>& field,
            const boost::json::value& value) {
  if (value.is_null()) {
    field.reset();
  } else if (value.is_bool() && !value.get_bool()) {
    field = std::string();  // KMS keys: false = disable encryption (spec/wire.md §3.3)
  } else {
    field = as_string(key, value);
  }
}
void assign(std::string_view key, std::variant<std::int64_t, std::string>& field,
            const boost::json::value& value) {
  if (value.is_int64()) {
    field = value.get_int64();
  } else if (value.is_uint64() && value.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    field = static_cast<std::int64_t>(value.get_uint64());
  } else if (value.is_string()) {
    field = std::string(value.get_string());
  } else {
    bad_value(key, value, "an integer or a size string such as \"100MB\"");
  }
}
void assign(std::string_view key, std::variant<bool, std::string>& field,
            const boost::json::value& value) {
  if (value.is_bool()) {
    field = value.get_bool();
  } else if (value.is_string()) {
    field = std::string(value.get_string());
  } else {
    bad_value(key, value, "true, false or a file path");
  }
}
void assign(std::string_view key, std::vector<std::string>& field,
            const boost::json::value& value) {
  field.clear();
  if (value.is_null()) return;
  if (value.is_string()) {
    if (!value.get_string().empty()) field.emplace_back(value.get_string());
    return;
  }
  if (!value.is_array()) bad_value(key, value, "a list of strings");
  for (const auto& element : value.get_array()) field.push_back(as_string(key, element));
}

// Typed member → JSON.
boost::json::value to_json(const std::string& field) { return boost::json::string(field); }
boost::json::value to_json(int field) { return field; }
boost::json::value to_json(bool field) { return field; }
boost::json::value to_json(double field) {
  if (std::trunc(field) == field && std::abs(field) < 1e15) return static_cast<std::int64_t>(field);
  return field;
}
boost::json::value to_json(const std::optional<int>& field) {
  return field ? boost::json::value(*field) : boost::json::value(nullptr);
}
boost::json::value to_json(const std::optional<std::string>& field) {
  return field ? boost::json::value(boost::json::string(*field)) : boost::json::value(nullptr);
}
boost::json::value to_json(const std::variant<std::int64_t, std::string>& field) {
  if (const auto* n = std::get_if<std::int64_t>(&field)) return *n;
  return boost::json::string(std::get<std::string>(field));
}
boost::json::value to_json(const std::variant<bool, std::string>& field) {
  if (const auto* b = std::get_if<bool>(&field)) return *b;
  return boost::json::string(std::get<std::string>(field));
}
boost::json::value to_json(const std::vector<std::string>& field) {
  boost::json::array array;
  for (const auto& s : field) array.emplace_back(boost::json::string(s));
  return array;
}

template <typename Group>
boost::json::object group_to_object(const Group& group);

template <typename Field>
boost::json::value member_to_json(const Field& field) {
  if constexpr (is_group_v<Field>) {
    return group_to_object(field);
  } else {
    return to_json(field);
  }
}

template <typename Group>
boost::json::object group_to_object(const Group& group) {
  boost::json::object object;
  boost::mp11::mp_for_each<boost::describe::describe_members<Group, boost::describe::mod_public>>(
      [&](auto member) { object[member.name] = member_to_json(group.*member.pointer); });
  return object;
}

template <typename Group>
void flatten_into(boost::json::object& out, const std::string& prefix, const Group& group) {
  boost::mp11::mp_for_each<boost::describe::describe_members<Group, boost::describe::mod_public>>(
      [&](auto member) {
        using Field = std::remove_cvref_t<decltype(group.*member.pointer)>;
        const std::string key =
            prefix.empty() ? std::string(member.name) : prefix + "." + member.name;
        if constexpr (is_group_v<Field>) {
          flatten_into(out, key, group.*member.pointer);
        } else {
          out[key] = to_json(group.*member.pointer);
        }
      });
}

// Visits the member named by the dotted `path` (relative to `group`): calls
// `on_field(field)` for a leaf, `on_group(group)` for a group. Returns false when
// no such member exists.
template <typename Group, typename OnField, typename OnGroup>
bool visit_path(Group& group, std::string_view path, OnField&& on_field, OnGroup&& on_group) {
  if (path.empty()) {
    on_group(group);
    return true;
  }
  const auto dot = path.find('.');
  const std::string_view head = path.substr(0, dot);
  const std::string_view rest =
      dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  bool found = false;
  boost::mp11::mp_for_each<
      boost::describe::describe_members<std::remove_const_t<Group>, boost::describe::mod_public>>(
      [&](auto member) {
        if (found || head != member.name) return;
        auto& field = group.*member.pointer;
        using Field = std::remove_cvref_t<decltype(field)>;
        if constexpr (is_group_v<Field>) {
          found = visit_path(field, rest, on_field, on_group);
        } else if (rest.empty()) {
          on_field(field);
          found = true;
        }
      });
  return found;
}

// Legacy names (spec/service.md §2.2) → canonical dotted keys.
const std::map<std::string, std::vector<std::string>, std::less<>>& alias_table() {
  static const auto* table = [] {
    auto* t = new std::map<std::string, std::vector<std::string>, std::less<>>();
    const std::vector<std::string> all_endpoints = {
        "aws_endpoint_urls.sns", "aws_endpoint_urls.sqs", "aws_endpoint_urls.sts"};
    const std::vector<std::string> both_kms = {"aws_sns_sqs.sns_kms_master_key_id",
                                               "aws_sns_sqs.sqs_kms_master_key_id"};
    auto add_aws_family = [&](const std::string& group) {
      const std::string p = group + ".";
      (*t)[p + "aws_region_name"] = {"aws_sns_sqs.region_name"};
      (*t)[p + "secret_access_key"] = {"aws_sns_sqs.aws_secret_access_key"};
      (*t)[p + "access_key_id"] = {"aws_sns_sqs.aws_access_key_id"};
      (*t)[p + "endpoint_url"] = all_endpoints;
      (*t)[p + "aws_endpoint_url"] = all_endpoints;
      for (const std::string service : {"sns", "sqs", "sts"}) {
        (*t)[p + "endpoint_urls." + service] = {"aws_endpoint_urls." + service};
        (*t)[p + "aws_" + service + "_endpoint_url"] = {"aws_endpoint_urls." + service};
        (*t)[p + service + "_endpoint_url"] = {"aws_endpoint_urls." + service};
      }
      (*t)[p + "aws_kms_master_key_id"] = both_kms;
      (*t)[p + "kms_master_key_id"] = both_kms;
      (*t)[p + "aws_sns_kms_master_key_id"] = {"aws_sns_sqs.sns_kms_master_key_id"};
      (*t)[p + "aws_sqs_kms_master_key_id"] = {"aws_sns_sqs.sqs_kms_master_key_id"};
      for (const std::string name :
           {"aws_sqs_kms_data_key_reuse_period", "aws_kms_data_key_reuse_period",
            "kms_data_key_reuse_period"}) {
        (*t)[p + name] = {"aws_sns_sqs.sqs_kms_data_key_reuse_period"};
      }
    };
    add_aws_family("aws");
    add_aws_family("aws_sns_sqs");
    for (const std::string name :
         {"region_name", "aws_access_key_id", "aws_secret_access_key", "topic_prefix",
          "queue_name_prefix", "queue_policy", "wildcard_queue_policy", "sns_kms_master_key_id",
          "sqs_kms_master_key_id", "sqs_kms_data_key_reuse_period"}) {
      (*t)["aws." + name] = {"aws_sns_sqs." + name};
    }
    (*t)["aws.sns_kms_master_key_id"] = {"aws_sns_sqs.sns_kms_master_key_id"};
    (*t)["aws.sqs_kms_master_key_id"] = {"aws_sns_sqs.sqs_kms_master_key_id"};
    (*t)["http.max_buffer_size"] = {"http.client_max_size"};
    (*t)["http.max_upload_size"] = {"http.client_max_size"};
    return t;
  }();
  return *table;
}

// Group names that only exist as alias prefixes.
bool is_alias_group(std::string_view key) {
  return key == "aws" || key == "aws.endpoint_urls" || key == "aws_sns_sqs.endpoint_urls";
}

std::vector<std::string> canonical_keys(std::string_view key) {
  if (auto alias = alias_table().find(key); alias != alias_table().end()) return alias->second;
  return {std::string(key)};
}

bool is_group_key(std::string_view key) {
  if (is_alias_group(key)) return true;
  Options probe;
  bool group = false;
  visit_path(
      probe, key, [](auto&) {}, [&](auto&) { group = true; });
  return group && !key.empty();
}

[[noreturn]] void unknown_key(std::string_view key) {
  throw OptionError("Invalid option '" + std::string(key) +
                    "': no such option (see docs/options.md)");
}

}  // namespace

void Options::set(std::string_view key, const boost::json::value& value) {
  if (is_group_key(key)) {
    if (!value.is_object())
      bad_value(key, value, "an object of '" + std::string(key) + "' options");
    for (const auto& member : value.get_object()) {
      set(std::string(key) + "." + std::string(member.key()), member.value());
    }
    return;
  }
  for (const std::string& canonical : canonical_keys(key)) {
    const bool found = visit_path(
        *this, canonical, [&](auto& field) { assign(key, field, value); }, [](auto&) {});
    if (!found) unknown_key(key);
  }
}

boost::json::value Options::get(std::string_view key) const {
  const std::vector<std::string> keys = canonical_keys(key);
  boost::json::value result;
  const bool found = visit_path(
      *this, keys.front(), [&](const auto& field) { result = to_json(field); },
      [&](const auto& group) { result = group_to_object(group); });
  if (!found || key.empty()) unknown_key(key);
  return result;
}

bool Options::has_key(std::string_view key) {
  if (key.empty()) return false;
  if (is_alias_group(key) || alias_table().count(key) > 0) return true;
  Options probe;
  return visit_path(
      probe, key, [](auto&) {}, [](auto&) {});
}

void Options::update(const boost::json::object& values) {
  for (const auto& member : values) set(std::string_view(member.key()), member.value());
}

Options Options::from_json(const boost::json::object& values) {
  Options options;
  options.update(values);
  return options;
}

boost::json::object Options::asdict() const {
  boost::json::object out;
  flatten_into(out, "", *this);
  return out;
}

}  // namespace tomodachi
