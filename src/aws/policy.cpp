#include "aws/policy.hpp"

#include "aws/naming.hpp"

#include <tomodachi/json.hpp>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include <cstdio>
#include <system_error>

namespace tomodachi::aws {
namespace {

boost::json::array statements_without_sid(const boost::json::value& policy) {
  boost::json::array result;
  const auto* object = policy.if_object();
  if (object == nullptr) return result;
  const auto* statements = object->if_contains("Statement");
  if (statements == nullptr) return result;
  if (const auto* list = statements->if_array()) {
    for (const auto& statement : *list) {
      boost::json::value copy = statement;
      if (auto* fields = copy.if_object()) fields->erase("Sid");
      result.push_back(std::move(copy));
    }
  } else {
    boost::json::value copy = *statements;
    if (auto* fields = copy.if_object()) fields->erase("Sid");
    result.push_back(std::move(copy));
  }
  return result;
}

}  // namespace

std::string queue_policy_source_arn(const std::vector<std::string>& topic_arns,
                                    const QueuePolicyOptions& options) {
  if (topic_arns.size() == 1) return options.queue_policy.value_or(topic_arns.front());
  if (options.wildcard_queue_policy) return *options.wildcard_queue_policy;
  if (options.queue_policy) return *options.queue_policy;
  return policy_source_arn(topic_arns);
}

boost::json::object queue_policy(std::string_view queue_arn, std::string_view source_arn,
                                 std::string_view uuid4, double epoch_seconds) {
  char seconds[64];
  std::snprintf(seconds, sizeof seconds, "%.3f", epoch_seconds);
  std::string sid(uuid4);
  for (const char* c = seconds; *c != '\0'; ++c) {
    if (*c != '.') sid += *c;
  }
  boost::json::object condition{{"ArnEquals", boost::json::object{{"aws:SourceArn", source_arn}}}};
  boost::json::object statement{{"Sid", sid},
                                {"Effect", "Allow"},
                                {"Principal", "*"},
                                {"Action", "SQS:SendMessage"},
                                {"Resource", queue_arn},
                                {"Condition", std::move(condition)}};
  return boost::json::object{{"Version", "2012-10-17"},
                             {"Id", std::string(queue_arn) + "/SQSDefaultPolicy"},
                             {"Statement", boost::json::array{std::move(statement)}}};
}

boost::json::object queue_policy(std::string_view queue_arn,
                                 const std::vector<std::string>& source_arns,
                                 const std::function<std::string()>& uuid4, double epoch_seconds) {
  boost::json::object policy;
  boost::json::array statements;
  for (const auto& source_arn : source_arns) {
    auto single = queue_policy(queue_arn, source_arn, uuid4(), epoch_seconds);
    if (policy.empty()) policy = single;
    statements.push_back(single.at("Statement").as_array().front());
  }
  policy["Statement"] = std::move(statements);
  return policy;
}

bool same_policy_statements(std::string_view current_policy, const boost::json::object& wanted) {
  std::error_code error;
  const auto current = json::loads(current_policy, error);
  if (error) return false;
  return statements_without_sid(current) == statements_without_sid(boost::json::value(wanted));
}

}  // namespace tomodachi::aws
