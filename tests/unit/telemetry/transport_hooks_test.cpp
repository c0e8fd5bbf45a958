// The transports' instrumentation (src/amqp/telemetry.cpp, src/aws/telemetry.cpp): the
// consumer instruments' names, attributes and extracted parents, the producer spans'
// carriers, and the SNS/SQS 10-attribute rule. The e2e test
// (tests/e2e/test_telemetry_messaging.py) checks the same against the real brokers.
#include "amqp/telemetry.hpp"
#include "aws/telemetry.hpp"
#include "telemetry/handler_span.hpp"

#include "collecting_tracer.hpp"

#include <tomodachi/logging.hpp>
#include <tomodachi/message.hpp>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <map>
#include <stdexcept>

using namespace tomodachi;
using namespace tomodachi::telemetry;

namespace {
using test_support::Installed;

const std::string remote_traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

void run(boost::asio::io_context& io, Task<void> task) {
  auto done = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  io.restart();
  done.get();
}

Message message_of(IncomingMessage incoming, std::string handler) {
  ParsedMessage parsed;
  parsed.message = boost::json::string(incoming.payload);
  return Message(std::move(incoming), std::move(parsed),
                 Message::Context{nullptr, std::move(handler), Logger("test"), 1, true});
}

std::map<std::string, std::string> strings(const trace::Attributes& attributes) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : attributes) {
    if (const auto* text = std::get_if<std::string>(&value)) out[key] = *text;
  }
  return out;
}

// Runs `instrument` around a chain that records the span current in it.
std::string run_instrumented(const MessageInstrument& instrument, Message& message) {
  boost::asio::io_context io;
  std::string seen;
  auto chain = [&]() -> Task<void> {
    seen = trace::current_span().span_id_hex();
    co_return;
  };
  run(io, instrument(message, chain()));
  return seen;
}

struct LogLines {
  std::vector<std::string> messages;
  int id = add_log_sink([this](const LogRecord& record) {
    if (record.message) messages.emplace_back(*record.message);
  });
  ~LogLines() { remove_log_sink(id); }
};

}  // namespace

TEST(AmqpTelemetry, ConsumerSpanAsUpstreamsMiddleware) {
  Installed installed;
  const MessageInstrument instrument = amqp_impl::consumer_instrument("orders.created", "");
  ASSERT_TRUE(instrument);
  IncomingMessage incoming;
  incoming.payload = "{}";
  incoming.topic = "orders.created";
  incoming.transport_values = boost::json::object{
      {"routing_key", "orders.created"},
      {"properties",
       {{"headers", {{"traceparent", remote_traceparent}, {"tracestate", "congo=t61rcWkgMzE"}}}}}};
  Message message = message_of(std::move(incoming), "on_order");
  const std::string seen = run_instrumented(instrument, message);
  ASSERT_EQ(installed.sink->spans.size(), 1u);
  const SpanData& span = installed.sink->spans[0];
  EXPECT_EQ(span.name, "orders.created process");
  EXPECT_EQ(span.kind, trace::SpanKind::consumer);
  EXPECT_EQ(to_hex(span.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(to_hex(span.parent_span_id), "00f067aa0ba902b7");
  EXPECT_TRUE(span.parent_remote);
  EXPECT_EQ(span.trace_state, "congo=t61rcWkgMzE");
  EXPECT_EQ(seen, to_hex(span.span_id));  // current in the chain
  EXPECT_EQ(span.status, trace::StatusCode::ok);
  EXPECT_EQ(strings(span.attributes),
            (std::map<std::string, std::string>{
                {"messaging.system", "rabbitmq"},
                {"messaging.operation", "process"},
                {"messaging.destination.name", "amq.topic"},  // "" is amq.topic, as upstream
                {"messaging.rabbitmq.destination.routing_key", "orders.created"},
                {"code.function", "on_order"}}));
}

TEST(AmqpTelemetry, WithoutHeadersTheConsumerSpanIsARoot) {
  Installed installed;
  const MessageInstrument instrument = amqp_impl::consumer_instrument("k", "custom");
  Message message = message_of(IncomingMessage{.payload = "{}"}, "h");
  run_instrumented(instrument, message);
  ASSERT_EQ(installed.sink->spans.size(), 1u);
  EXPECT_FALSE(installed.sink->spans[0].has_parent());
  EXPECT_EQ(strings(installed.sink->spans[0].attributes)["messaging.destination.name"], "custom");
}

TEST(AmqpTelemetry, PublishSpanInjectsStringHeaders) {
  Installed installed;
  trace::Span parent = trace::start_span("GET /order", trace::SpanKind::server);
  trace::Scope scope(parent);
  AmqpProperties properties;
  trace::Span span = amqp_impl::start_publish_span("orders.created", "amq.topic", properties);
  ASSERT_TRUE(properties.headers);
  EXPECT_EQ(properties.headers->at("traceparent").as_string(),
            "00-" + parent.trace_id_hex() + "-" + span.span_id_hex() + "-01");
  EXPECT_FALSE(properties.headers->contains("tracestate"));
  end_producer_span(span, nullptr);
  const SpanData& data = installed.sink->spans.back();
  EXPECT_EQ(data.name, "orders.created publish");
  EXPECT_EQ(data.kind, trace::SpanKind::producer);
  EXPECT_EQ(data.status, trace::StatusCode::ok);
  EXPECT_EQ(data.parent_span_id, parent.span_id());
}

TEST(AmqpTelemetry, OffNothingIsAdded) {
  install_tracer(nullptr);
  EXPECT_FALSE(amqp_impl::consumer_instrument("k", ""));
  AmqpProperties properties;
  EXPECT_FALSE(amqp_impl::start_publish_span("k", "", properties).valid());
  EXPECT_TRUE(properties.empty());
  EXPECT_FALSE(aws::consumer_instrument(""));
}

TEST(ProducerSpan, AFailedPublishIsAnErrorWithTheExceptionEvent) {
  Installed installed;
  trace::Span span = start_producer_span("t publish", {});
  end_producer_span(span, std::make_exception_ptr(std::runtime_error("broker gone")));
  const SpanData& data = installed.sink->spans.back();
  EXPECT_EQ(data.status, trace::StatusCode::error);
  EXPECT_EQ(data.status_message, "runtime_error: broker gone");
  ASSERT_EQ(data.events.size(), 1u);
  EXPECT_EQ(data.events[0].name, "exception");
}

TEST(AwsTelemetry, SqsConsumerSpanForATopicAndForAQueueAlone) {
  Installed installed;
  const MessageInstrument instrument = aws::consumer_instrument("prefix-");
  ASSERT_TRUE(instrument);
  IncomingMessage incoming;
  incoming.payload = "{}";
  incoming.topic = "order-created";
  incoming.message_attributes =
      MessageAttributes{{"traceparent", boost::json::value(remote_traceparent)}};
  incoming.transport_values =
      boost::json::object{{"queue_url", "http://localhost:4566/000000000000/prefix-orders"},
                          {"sns_message_id", "sns-1"},
                          {"sqs_message_id", "sqs-1"}};
  Message via_topic = message_of(std::move(incoming), "on_event");
  run_instrumented(instrument, via_topic);

  IncomingMessage direct;
  direct.payload = "{}";
  direct.message_attributes = MessageAttributes{};
  direct.transport_values =
      boost::json::object{{"queue_url", "http://localhost:4566/000000000000/prefix-orders"},
                          {"sns_message_id", ""},
                          {"sqs_message_id", "sqs-2"}};
  Message via_queue = message_of(std::move(direct), "on_direct");
  run_instrumented(instrument, via_queue);

  ASSERT_EQ(installed.sink->spans.size(), 2u);
  const SpanData& topic_span = installed.sink->spans[0];
  EXPECT_EQ(topic_span.name, "order-created process");
  EXPECT_EQ(topic_span.kind, trace::SpanKind::consumer);
  EXPECT_EQ(to_hex(topic_span.parent_span_id), "00f067aa0ba902b7");
  EXPECT_EQ(
      strings(topic_span.attributes),
      (std::map<std::string, std::string>{{"messaging.system", "aws_sqs"},
                                          {"messaging.operation", "process"},
                                          {"messaging.destination.name", "orders"},
                                          {"messaging.destination.kind", "queue"},
                                          {"messaging.message.id", "sns-1"},
                                          {"messaging.destination_publish.name", "order-created"},
                                          {"messaging.destination_publish.kind", "topic"},
                                          {"code.function", "on_event"}}));
  const SpanData& queue_span = installed.sink->spans[1];
  EXPECT_EQ(queue_span.name, " process");  // upstream's f"{topic} process" with no topic
  EXPECT_FALSE(queue_span.has_parent());
  const auto attributes = strings(queue_span.attributes);
  EXPECT_EQ(attributes.at("messaging.message.id"), "sqs-2");
  EXPECT_EQ(attributes.at("messaging.destination_publish.name"), "orders");
  EXPECT_EQ(attributes.at("messaging.destination_publish.kind"), "queue");
}

TEST(AwsTelemetry, QueueNameOfAUrl) {
  EXPECT_EQ(aws::queue_name_of_url("http://h:1/000000000000/pre-q", "pre-"), "q");
  EXPECT_EQ(aws::queue_name_of_url("http://h:1/000000000000/q.fifo", "pre-"), "q.fifo");
  EXPECT_EQ(aws::queue_name_of_url("q", ""), "q");
}

TEST(AwsTelemetry, TheTraceContextFitsWithinTenAttributes) {
  Installed installed;
  trace::Span span = aws::start_publish_span("orders");
  MessageAttributes attributes;
  for (int i = 0; i < 9; ++i) attributes.set("a" + std::to_string(i), boost::json::value(i));
  EXPECT_EQ(aws::inject_attributes(span, attributes, "arn:fits"), 0u);
  EXPECT_EQ(attributes.size(), 10u);
  EXPECT_EQ(attributes.json("traceparent").as_string(),
            "00-" + span.trace_id_hex() + "-" + span.span_id_hex() + "-01");
}

TEST(AwsTelemetry, TheUsersAttributesWinAndOneWarningPerDestination) {
  Installed installed;
  LogLines logs;
  // A trace with a tracestate: two entries to place.
  const auto parent = parse_traceparent(remote_traceparent);
  SpanContext remote = *parent;
  remote.trace_state = "congo=t61rcWkgMzE";
  remote.remote = true;
  trace::Span span = tracer()->start_span("x publish", trace::SpanKind::producer, {}, remote);

  MessageAttributes nine;
  for (int i = 0; i < 9; ++i) nine.set("a" + std::to_string(i), boost::json::value(i));
  EXPECT_EQ(aws::inject_attributes(span, nine, "arn:nine"), 1u);  // traceparent in, tracestate out
  EXPECT_TRUE(nine.contains("traceparent"));
  EXPECT_FALSE(nine.contains("tracestate"));
  EXPECT_EQ(nine.size(), 10u);

  MessageAttributes ten;
  for (int i = 0; i < 10; ++i) ten.set("a" + std::to_string(i), boost::json::value(i));
  for (int round = 0; round < 3; ++round) {
    MessageAttributes copy = ten;
    EXPECT_EQ(aws::inject_attributes(span, copy, "arn:ten"), 2u);
    EXPECT_EQ(copy.size(), 10u);
    EXPECT_FALSE(copy.contains("traceparent"));
  }
  std::size_t warnings = 0;
  for (const auto& message : logs.messages)
    warnings += message.starts_with("trace context left out of the message attributes") ? 1 : 0;
  EXPECT_EQ(warnings, 2u);  // once for arn:nine, once for arn:ten

  // The user's own traceparent is replaced in place: it takes no extra room.
  MessageAttributes own = ten;
  own.erase("a9");
  own.set("traceparent", boost::json::value("00-stale"));
  aws::inject_attributes(span, own, "arn:own");
  EXPECT_EQ(own.json("traceparent").as_string(), format_traceparent(context_of(span)));
}
