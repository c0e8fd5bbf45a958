#pragma once
// The SQS queue policy that lets SNS topics deliver to a queue (spec/wire.md §3.7).

#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tomodachi::aws {

struct QueuePolicyOptions {
  std::optional<std::string> queue_policy;           ///< option aws_sns_sqs.queue_policy
  std::optional<std::string> wildcard_queue_policy;  ///< option aws_sns_sqs.wildcard_queue_policy
};

/// The `aws:SourceArn` for `topic_arns`: one ARN → it (or the `queue_policy` option);
/// several → their common prefix + `*`, overridden by `queue_policy`, then by
/// `wildcard_queue_policy`.
std::string queue_policy_source_arn(const std::vector<std::string>& topic_arns,
                                    const QueuePolicyOptions& options);

/// The policy document: Version 2012-10-17, Id `<queue_arn>/SQSDefaultPolicy`, one
/// statement allowing `SQS:SendMessage` from `source_arn`. The statement's Sid is
/// `uuid4` followed by `'%.3f' % epoch_seconds` without the dot.
boost::json::object queue_policy(std::string_view queue_arn, std::string_view source_arn,
                                 std::string_view uuid4, double epoch_seconds);

/// The same with one statement per source ARN (a queue several topics deliver to); each
/// statement's Sid takes the next `uuid4()`.
boost::json::object queue_policy(std::string_view queue_arn,
                                 const std::vector<std::string>& source_arns,
                                 const std::function<std::string()>& uuid4, double epoch_seconds);

/// True when `current_policy` (the queue's Policy attribute text) has the same
/// statements as `wanted`, ignoring their `Sid`s. Unparsable text is never the same.
bool same_policy_statements(std::string_view current_policy, const boost::json::object& wanted);

}  // namespace tomodachi::aws
