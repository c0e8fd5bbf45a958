#include "aws/publisher.hpp"

#include "aws/attributes.hpp"
#include "aws/http_client.hpp"
#include "aws/naming.hpp"
#include "aws/telemetry.hpp"
#include "telemetry/handler_span.hpp"

#include <tomodachi/json.hpp>
#include <tomodachi/service.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <cmath>
#include <ctime>

namespace tomodachi::aws {
namespace {

std::string utc_millis(double epoch_seconds) {
  const auto millis = static_cast<std::int64_t>(std::floor(epoch_seconds * 1000.0));
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof text - length, ".%03dZ", static_cast<int>(millis % 1000));
  return text;
}

// Up to 3 attempts (spec §3.4, §3.12): transport failures and AWS errors are retried.
template <typename Call>
Task<std::string> with_retries(AwsResources& resources, std::string_view what, Call call) {
  std::exception_ptr last;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    try {
      co_return co_await call(attempt);
    } catch (const AwsApiError&) {
      last = std::current_exception();
    } catch (const AwsHttpError&) {
      last = std::current_exception();
    }
  }
  std::string text;
  try {
    std::rethrow_exception(last);
  } catch (const AwsHttpError& error) {
    text = error.kind() == AwsHttpError::Kind::timeout ? "Network timeout" : error.what();
  } catch (const std::exception& error) {
    text = error.what();
  }
  resources.logger().warning("Unable to " + std::string(what) + " on AWS (" + text + ")");
  throw AwsSnsSqsException(text);
}

// With tracing on: the PRODUCER span around `publish` (upstream's traced publish calls),
// named and tagged by the caller, current while it runs (upstream's
// start_as_current_span), with the message id when it went out.
Task<std::string> traced(trace::Span span, Task<std::string> publish) {
  std::exception_ptr error;
  std::string message_id;
  try {
    auto in_span = trace::run_in_span(span, std::move(publish));
    message_id = co_await std::move(in_span);
  } catch (...) {
    error = std::current_exception();
  }
  if (!error) span.set_attribute("messaging.message.id", message_id);
  telemetry::end_producer_span(span, error);
  if (error) std::rethrow_exception(error);
  co_return message_id;
}

// SNS Publish of a built payload to `topic_arn`, with up to 3 attempts.
Task<std::string> publish_built(AwsResources& resources, PublishInput& input, std::string payload,
                                std::string topic_arn) {
  const bool fifo = input.group_id.has_value();
  PublishRequest request{topic_arn, std::move(payload), encode_attributes(input.attributes),
                         std::nullopt, std::nullopt};
  if (fifo) {
    request.message_group_id = input.group_id;
    request.message_deduplication_id =
        input.deduplication_id ? *input.deduplication_id : resources.uuid4();
  }
  auto attempt_publish = [&](int attempt) -> Task<std::string> {
    if (attempt > 1 && request.topic_arn.empty()) {
      request.topic_arn = co_await resources.publish_topic_arn(input.topic, input.topic_prefix,
                                                               fifo, input.topic_attributes,
                                                               input.overwrite_topic_attributes);
    }
    std::string message_id;
    try {
      message_id = co_await resources.api().publish(request);
    } catch (const AwsApiError& error) {
      // The topic vanished (deleted, or an emulator restarted): look it up again next time.
      if (error.code() == "NotFound" || error.code() == "NotFoundException") {
        resources.forget_topic(request.topic_arn);
        request.topic_arn.clear();
      }
      throw;
    }
    if (message_id.empty()) throw AwsSnsSqsException("Missing MessageId in response");
    co_return message_id;
  };
  co_return co_await with_retries(resources, "publish message [sns]", attempt_publish);
}

// SQS SendMessage to `queue_url`: the body built (formatter, tomodachi body, or raw) from
// `input`, up to 3 attempts.
Task<std::string> send_built(AwsResources& resources, SendInput& input, std::string queue_url,
                             BuildContext context) {
  std::string body;
  const auto time = context.time ? *context.time : resources.now();
  if (input.formatter) {
    const auto envelope = input.sender
                              ? resolve_envelope(input.envelope, *input.sender)
                              : resolve_envelope(input.envelope, std::shared_ptr<const Envelope>());
    const SqsBodyContext formatter_context{*input.sender, input.data, input.attributes,
                                           input.queue,   queue_url,  envelope.get()};
    body = input.formatter(formatter_context);
  } else if (input.tomodachi_body) {
    auto payload = build_envelope_payload(input.sender, input.data, "", input.envelope,
                                          input.attributes, std::move(context));
    body = sqs_message_body(queue_url, payload, time, input.attributes);
  } else {
    body = build_raw_payload(input.data);
  }
  SendMessageRequest request{queue_url,    std::move(body), encode_attributes(input.attributes),
                             std::nullopt, std::nullopt,    input.delay_seconds};
  if (input.group_id) {
    request.message_group_id = input.group_id;
    request.message_deduplication_id =
        input.deduplication_id ? *input.deduplication_id : resources.uuid4();
  }
  auto attempt_send = [&](int) -> Task<std::string> {
    if (request.queue_url.empty())
      request.queue_url = co_await resources.send_queue_url(input.queue, input.queue_name_prefix);
    std::exception_ptr missing;
    try {
      co_return co_await resources.api().send_message(request);
    } catch (const AwsApiError& error) {
      if (!error.non_existent_queue()) throw;
      missing = std::current_exception();
    }
    // The queue vanished: resolve the name again on the next attempt.
    resources.forget_queue(request.queue_url);
    request.queue_url.clear();
    std::rethrow_exception(missing);
  };
  co_return co_await with_retries(resources, "send message [sqs]", attempt_send);
}

}  // namespace

std::string build_envelope_payload(const Service* sender, const PublishData& data,
                                   const std::string& topic, const EnvelopeOverride& envelope,
                                   MessageAttributes& attributes, BuildContext context) {
  tomodachi::PublishRequest request{sender,      data, topic, envelope, std::move(attributes),
                                    std::nullopt};
  auto payload = build_payload(request, std::move(context));
  attributes = std::move(request.message_attributes);
  return payload;
}

std::string sqs_message_body(const std::string& queue_url, const std::string& payload,
                             double epoch_seconds, const MessageAttributes& attributes) {
  const boost::json::object body{{"Type", "Message"},
                                 {"QueueUrl", queue_url},
                                 {"Version", "0"},
                                 {"Message", payload},
                                 {"Timestamp", utc_millis(epoch_seconds)},
                                 {"MessageAttributes", body_attributes(attributes)}};
  return json::dumps(body);
}

Task<std::string> publish_message(AwsResources& resources, PublishInput input,
                                  BuildContext context) {
  const bool fifo = input.group_id.has_value();
  auto payload = build_envelope_payload(input.sender, input.data, input.topic, input.envelope,
                                        input.attributes, std::move(context));
  auto topic_arn = co_await resources.publish_topic_arn(input.topic, input.topic_prefix, fifo,
                                                        input.topic_attributes,
                                                        input.overwrite_topic_attributes);
  if (telemetry::tracer() == nullptr) {
    auto publish = publish_built(resources, input, std::move(payload), std::move(topic_arn));
    co_return co_await std::move(publish);
  }
  // As upstream: the topic read back from the ARN without the service's topic prefix, the
  // context added after the envelope built the payload (and its attributes).
  const std::string& prefix =
      input.sender ? input.sender->options.aws_sns_sqs.topic_prefix : input.topic_prefix;
  trace::Span span = start_publish_span(topic_from_arn(topic_arn, prefix));
  inject_attributes(span, input.attributes, topic_arn);
  auto publish = publish_built(resources, input, std::move(payload), std::move(topic_arn));
  auto publish_traced = traced(std::move(span), std::move(publish));
  co_return co_await std::move(publish_traced);
}

Task<std::string> send_sqs_message(AwsResources& resources, SendInput input, BuildContext context) {
  check_send_fifo_arguments(input.queue, input.group_id.has_value());
  auto queue_url = co_await resources.send_queue_url(input.queue, input.queue_name_prefix);
  if (telemetry::tracer() == nullptr) {
    auto send = send_built(resources, input, std::move(queue_url), std::move(context));
    co_return co_await std::move(send);
  }
  // As upstream: the context goes into the attributes before the body is built, so a
  // tomodachi body's MessageAttributes (and a body formatter) carry it too.
  const std::string& prefix =
      input.sender ? input.sender->options.aws_sns_sqs.queue_name_prefix : input.queue_name_prefix;
  trace::Span span = start_send_span(queue_url, prefix);
  inject_attributes(span, input.attributes, queue_url);
  auto send = send_built(resources, input, std::move(queue_url), std::move(context));
  auto send_traced = traced(std::move(span), std::move(send));
  co_return co_await std::move(send_traced);
}

}  // namespace tomodachi::aws
