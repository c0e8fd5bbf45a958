// The SNS/SQS transport's spans and metrics (upstream's middleware.py
// OpenTelemetryAWSSQSMiddleware and instrumentation.py _traced_publish_awssnssqs_message /
// _traced_send_raw_awssqs_message), with the 10-attribute rule of docs/observability.md.
#include "aws/telemetry.hpp"

#include "telemetry/handler_span.hpp"

#include <tomodachi/logging.hpp>
#include <tomodachi/message.hpp>

#include <boost/json.hpp>

#include <mutex>
#include <optional>
#include <set>
#include <utility>

namespace tomodachi::aws {
namespace {

std::optional<std::string_view> string_attribute(const MessageAttributes& attributes,
                                                 std::string_view name) {
  const auto& value = attributes.json(name);
  if (!value.is_string()) return std::nullopt;
  return std::string_view(value.as_string());
}

// One warning per destination and process that the trace context did not fit.
bool first_overflow_of(std::string_view destination) {
  static std::mutex mutex;
  static std::set<std::string, std::less<>> warned;
  const std::lock_guard lock(mutex);
  if (warned.find(destination) != warned.end()) return false;
  warned.emplace(destination);
  return true;
}

}  // namespace

std::string queue_name_of_url(std::string_view queue_url, std::string_view queue_name_prefix) {
  const auto slash = queue_url.rfind('/');
  std::string_view name = slash == std::string_view::npos ? queue_url : queue_url.substr(slash + 1);
  if (!queue_name_prefix.empty() && name.starts_with(queue_name_prefix))
    name.remove_prefix(queue_name_prefix.size());
  return std::string(name);
}

MessageInstrument consumer_instrument(std::string queue_name_prefix) {
  if (!telemetry::instrumenting()) return {};
  return [prefix = std::move(queue_name_prefix)](Message& message, Task<void> chain) -> Task<void> {
    if (telemetry::tracer() == nullptr) return chain;
    const std::string& topic = message.topic();
    const std::string queue_name = queue_name_of_url(message.queue_url(), prefix);
    const std::string_view sns_id = message.sns_message_id();
    telemetry::HandlerSpanSpec spec;
    spec.name = topic + " process";
    spec.kind = trace::SpanKind::consumer;
    spec.attributes = {
        {"messaging.system", std::string("aws_sqs")},
        {"messaging.operation", std::string("process")},
        {"messaging.destination.name", queue_name},
        {"messaging.destination.kind", std::string("queue")},
        {"messaging.message.id", std::string(sns_id.empty() ? message.sqs_message_id() : sns_id)},
        {"messaging.destination_publish.name", topic.empty() ? queue_name : topic},
        {"messaging.destination_publish.kind", std::string(topic.empty() ? "queue" : "topic")},
        {"code.function", message.handler_name()}};
    const MessageAttributes& attributes = message.message_attributes();
    spec.remote_parent = telemetry::extract(string_attribute(attributes, "traceparent"),
                                            string_attribute(attributes, "tracestate"));
    spec.duration_instrument = "messaging.aws_sqs.duration";
    spec.active_instrument = "messaging.aws_sqs.active_tasks";
    return telemetry::run_handler_span(std::move(spec), std::move(chain));
  };
}

trace::Span start_publish_span(std::string topic) {
  if (telemetry::tracer() == nullptr) return {};
  trace::Attributes attributes{{"messaging.system", std::string("aws_sqs")},
                               {"messaging.operation", std::string("publish")},
                               {"messaging.destination.name", topic},
                               {"messaging.destination.kind", std::string("topic")}};
  return telemetry::start_producer_span(topic + " publish", std::move(attributes));
}

trace::Span start_send_span(std::string_view queue_url, std::string_view queue_name_prefix) {
  if (telemetry::tracer() == nullptr) return {};
  std::string queue_name = queue_name_of_url(queue_url, queue_name_prefix);
  trace::Attributes attributes{{"messaging.system", std::string("aws_sqs")},
                               {"messaging.operation", std::string("publish")},
                               {"messaging.destination.name", queue_name},
                               {"messaging.destination.kind", std::string("queue")}};
  return telemetry::start_producer_span(queue_name + " publish", std::move(attributes));
}

std::size_t inject_attributes(const trace::Span& span, MessageAttributes& attributes,
                              std::string_view destination) {
  std::size_t left_out = 0;
  std::string names;
  for (auto& [key, value] : telemetry::inject(span)) {
    // Replacing an attribute of the same name adds none.
    if (!attributes.contains(key) && attributes.size() >= max_message_attributes) {
      ++left_out;
      names += names.empty() ? key : ", " + key;
      continue;
    }
    attributes.set(key, boost::json::value(boost::json::string(value)));
  }
  if (left_out > 0 && first_overflow_of(destination)) {
    get_logger("tomodachi.awssnssqs")
        .warning("trace context left out of the message attributes: SNS/SQS take at most 10",
                 {{"destination", boost::json::string(destination)},
                  {"left_out", boost::json::string(names)},
                  {"message_attributes", static_cast<std::int64_t>(attributes.size())}});
  }
  return left_out;
}

}  // namespace tomodachi::aws
