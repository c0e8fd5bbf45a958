// The transports' hooks: consumer/schedule handler spans with upstream's status, exception
// event and instruments, producer spans and the injected carrier.
#include "telemetry/handler_span.hpp"

#include "collecting_tracer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <stdexcept>

using namespace tomodachi;
using namespace tomodachi::telemetry;

namespace {
using test_support::Installed;

void run(boost::asio::io_context& io, Task<void> task) {
  auto done = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  io.restart();
  done.get();
}

HandlerSpanSpec amqp_spec(MetricsRegistry& registry) {
  HandlerSpanSpec spec;
  spec.name = "orders.created process";
  spec.kind = trace::SpanKind::consumer;
  spec.attributes = {{"messaging.system", std::string("rabbitmq")},
                     {"messaging.operation", std::string("process")},
                     {"messaging.destination.name", std::string("amq.topic")},
                     {"messaging.rabbitmq.destination.routing_key", std::string("orders.created")},
                     {"code.function", std::string("on_order")}};
  spec.remote_parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  spec.duration_instrument = "messaging.rabbitmq.duration";
  spec.active_instrument = "messaging.rabbitmq.active_tasks";
  spec.registry = &registry;
  return spec;
}

const MetricData* find_metric(const std::vector<MetricData>& metrics, std::string_view name) {
  for (const auto& m : metrics)
    if (m.name == name) return &m;
  return nullptr;
}
std::optional<bool> function_success(const MetricData& metric) {
  for (const auto& [k, v] : metric.points.at(0).attributes)
    if (k == "function.success") return std::get<bool>(v);
  return std::nullopt;
}
}  // namespace

TEST(HandlerSpan, ConsumerSpanIsCurrentOkAndRecordsSuccess) {
  Installed installed;
  MetricsRegistry registry;
  boost::asio::io_context io;
  std::string seen_trace;
  auto handler = [&]() -> Task<void> {
    seen_trace = trace::current_span().trace_id_hex();
    co_return;
  };
  run(io, run_handler_span(amqp_spec(registry), handler()));
  ASSERT_EQ(installed.sink->spans.size(), 1u);
  const auto& span = installed.sink->spans[0];
  EXPECT_EQ(span.name, "orders.created process");
  EXPECT_EQ(span.kind, trace::SpanKind::consumer);
  EXPECT_EQ(seen_trace, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(to_hex(span.parent_span_id), "00f067aa0ba902b7");
  EXPECT_EQ(span.status, trace::StatusCode::ok);
  const auto metrics = registry.collect();
  const auto* duration = find_metric(metrics, "messaging.rabbitmq.duration");
  ASSERT_NE(duration, nullptr);
  ASSERT_EQ(duration->points.size(), 1u);
  EXPECT_EQ(function_success(*duration), true);
}

TEST(HandlerSpan, ExceptionIsErrorEventAndRethrown) {
  Installed installed;
  MetricsRegistry registry;
  boost::asio::io_context io;
  auto handler = []() -> Task<void> {
    throw std::runtime_error("boom");
    co_return;
  };
  EXPECT_THROW(run(io, run_handler_span(amqp_spec(registry), handler())), std::runtime_error);
  ASSERT_EQ(installed.sink->spans.size(), 1u);
  const auto& span = installed.sink->spans[0];
  EXPECT_EQ(span.status, trace::StatusCode::error);
  ASSERT_EQ(span.events.size(), 1u);
  EXPECT_EQ(span.events[0].name, "exception");
  const auto metrics = registry.collect();
  const auto* duration = find_metric(metrics, "messaging.rabbitmq.duration");
  ASSERT_NE(duration, nullptr);
  EXPECT_EQ(function_success(*duration), false);
}

TEST(HandlerSpan, ProducerSpanInjectsItsContext) {
  Installed installed;
  trace::Span parent = trace::start_span("GET /orders", trace::SpanKind::server);
  trace::Scope scope(parent);
  trace::Span span = start_producer_span("orders.created publish", {});
  const KeyValues carrier = inject(span);
  ASSERT_EQ(carrier.size(), 1u);
  EXPECT_EQ(carrier[0].first, "traceparent");
  auto parsed = parse_traceparent(carrier[0].second);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->trace_id, parent.trace_id());
  EXPECT_EQ(parsed->span_id, span.span_id());
  EXPECT_TRUE(parsed->sampled());
  span.end();
  EXPECT_EQ(installed.sink->spans.back().kind, trace::SpanKind::producer);
}

TEST(HandlerSpan, OffRunsTheHandlerAndInjectsNothing) {
  install_tracer(nullptr);
  boost::asio::io_context io;
  bool ran = false;
  auto handler = [&]() -> Task<void> {
    ran = true;
    co_return;
  };
  MetricsRegistry registry;
  run(io, run_handler_span(amqp_spec(registry), handler()));
  EXPECT_TRUE(ran);
  EXPECT_TRUE(registry.collect().empty());
  EXPECT_TRUE(inject(start_producer_span("x publish", {})).empty());
}
