#pragma once
// SNS Publish and SQS SendMessage as tomodachi does them (spec/wire.md §3.4, §3.12):
// envelope, attribute typing, the direct-send body, FIFO ids, retries.

#include "aws/setup.hpp"

#include <tomodachi/aws_sns_sqs.hpp>
#include <tomodachi/envelope.hpp>
#include <tomodachi/message_attributes.hpp>

#include <map>
#include <optional>
#include <string>

namespace tomodachi::aws {

struct PublishInput {
  const Service* sender = nullptr;
  PublishData data;
  std::string topic;
  std::string topic_prefix;
  EnvelopeOverride envelope;
  MessageAttributes attributes;
  std::map<std::string, std::string> topic_attributes;
  bool overwrite_topic_attributes = false;
  std::optional<std::string> group_id;
  std::optional<std::string> deduplication_id;
};

struct SendInput {
  const Service* sender = nullptr;
  PublishData data;
  std::string queue;
  std::string queue_name_prefix;
  EnvelopeOverride envelope;
  MessageAttributes attributes;
  std::optional<std::string> group_id;
  std::optional<std::string> deduplication_id;
  std::optional<int> delay_seconds;
  bool tomodachi_body = true;
  SqsBodyFormatter formatter = nullptr;
};

/// The envelope payload of a publish (`topic` "" for direct sends); the envelope may add
/// attributes. `context` carries pinned uuid4/time in tests.
std::string build_envelope_payload(const Service* sender, const PublishData& data,
                                   const std::string& topic, const EnvelopeOverride& envelope,
                                   MessageAttributes& attributes, BuildContext context = {});

/// tomodachi's SQS direct-send body: Python JSON of {Type, QueueUrl, Version, Message,
/// Timestamp (UTC, milliseconds truncated), MessageAttributes ({Type, Value})}.
std::string sqs_message_body(const std::string& queue_url, const std::string& payload,
                             double epoch_seconds, const MessageAttributes& attributes);

/// Publishes to SNS; returns the MessageId. Throws AwsSnsSqsException after 3 failed attempts.
Task<std::string> publish_message(AwsResources& resources, PublishInput input,
                                  BuildContext context = {});

/// Sends to SQS; returns the MessageId. Throws QueueDoesNotExistError, tomodachi::ArgumentError,
/// AwsSnsSqsException.
Task<std::string> send_sqs_message(AwsResources& resources, SendInput input,
                                   BuildContext context = {});

}  // namespace tomodachi::aws
