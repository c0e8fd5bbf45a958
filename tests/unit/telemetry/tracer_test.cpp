// Sampler, span model, the current span across coroutine suspensions, zero cost when off.
#include "telemetry/tracer.hpp"

#include "collecting_tracer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

using namespace tomodachi;
using namespace tomodachi::telemetry;

namespace {
using test_support::Installed;
}  // namespace

TEST(Tracer, OffMeansInvalidSpansAndNoOps) {
  install_tracer(nullptr);
  auto span = trace::start_span("x");
  EXPECT_FALSE(span.valid());
  EXPECT_EQ(span.state(), nullptr);  // nothing allocated
  span.set_attribute("a", std::string("b"));
  span.end();
  EXPECT_FALSE(trace::current_span().valid());
}

TEST(Tracer, ChildOfCurrentWithAttributesEventsStatus) {
  Installed t;
  auto parent = trace::start_span("parent", trace::SpanKind::server);
  {
    trace::Scope scope(parent);
    auto child = trace::start_span("child");
    child.set_attribute("k", std::int64_t{7});
    child.add_event("evt", {{"x", true}});
    child.record_exception(std::make_exception_ptr(std::runtime_error("boom")), true);
    child.set_status(trace::StatusCode::error, "bad");
    EXPECT_EQ(child.trace_id_hex(), parent.trace_id_hex());
    EXPECT_EQ(child.parent_span_id_hex(), parent.span_id_hex());
    child.end();
  }
  EXPECT_FALSE(trace::current_span().valid());
  parent.end();
  parent.end();  // once only
  ASSERT_EQ(t.sink->spans.size(), 2u);
  const auto& child = t.sink->spans[0];
  EXPECT_EQ(child.name, "child");
  EXPECT_EQ(child.kind, trace::SpanKind::internal);
  EXPECT_EQ(std::get<std::int64_t>(child.attributes[0].second), 7);
  ASSERT_EQ(child.events.size(), 2u);
  EXPECT_EQ(child.events[1].name, "exception");
  EXPECT_EQ(std::get<std::string>(child.events[1].attributes[1].second), "boom");
  EXPECT_EQ(child.status, trace::StatusCode::error);
  EXPECT_EQ(child.status_message, "bad");
  EXPECT_GE(child.end_time_unix_nano, child.start_time_unix_nano);
  EXPECT_FALSE(t.sink->spans[1].has_parent());
}

TEST(Tracer, RemoteParentAndRootMode) {
  Installed t;
  auto remote = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  auto span = tracer()->start_span("consume", trace::SpanKind::consumer, {}, remote);
  EXPECT_EQ(span.trace_id_hex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(span.parent_span_id_hex(), "b7ad6b7169203331");
  trace::Scope scope(span);
  auto root = tracer()->start_span("schedule", trace::SpanKind::internal, {}, std::nullopt,
                                   ParentMode::root);
  EXPECT_NE(root.trace_id_hex(), span.trace_id_hex());
  EXPECT_EQ(root.parent_span_id_hex(), "");
  span.end();
  ASSERT_EQ(t.sink->spans.size(), 1u);
  EXPECT_TRUE(t.sink->spans[0].parent_remote);
}

TEST(Sampler, Kinds) {
  TraceId id{};
  id[15] = 1;
  SpanContext sampled_parent;
  sampled_parent.trace_id = id;
  sampled_parent.span_id[0] = 1;
  sampled_parent.flags = 1;
  SpanContext unsampled_parent = sampled_parent;
  unsampled_parent.flags = 0;
  EXPECT_TRUE(Sampler({SamplerKind::always_on, 1}).should_sample(id, &unsampled_parent));
  EXPECT_FALSE(Sampler({SamplerKind::always_off, 1}).should_sample(id, &sampled_parent));
  EXPECT_FALSE(
      Sampler({SamplerKind::parentbased_always_on, 1}).should_sample(id, &unsampled_parent));
  EXPECT_TRUE(Sampler({SamplerKind::parentbased_always_off, 1}).should_sample(id, &sampled_parent));
  EXPECT_TRUE(Sampler({SamplerKind::parentbased_always_on, 1}).should_sample(id, nullptr));
  EXPECT_FALSE(Sampler({SamplerKind::parentbased_always_off, 1}).should_sample(id, nullptr));
  TraceId high{};
  for (auto& b : high) b = 0xff;
  EXPECT_TRUE(
      Sampler({SamplerKind::traceidratio, 0.5}).should_sample(id, nullptr));  // low 64 bits small
  EXPECT_FALSE(
      Sampler({SamplerKind::traceidratio, 0.5}).should_sample(high, nullptr));  // low 64 bits max
  EXPECT_FALSE(Sampler({SamplerKind::traceidratio, 0.0}).should_sample(id, nullptr));
  EXPECT_TRUE(Sampler({SamplerKind::traceidratio, 1.0}).should_sample(high, nullptr));
}

TEST(Tracer, UnsampledSpanPropagatesButIsNotExported) {
  Installed t({SamplerKind::always_off, 1.0});
  auto span = trace::start_span("x");
  EXPECT_TRUE(span.valid());
  EXPECT_FALSE(span.is_recording());
  span.end();
  EXPECT_TRUE(t.sink->spans.empty());
  EXPECT_FALSE(context_of(span).sampled());
}

namespace {
Task<void> worker(trace::Span expected, std::vector<std::string>& seen, int delay_ms) {
  auto ex = co_await boost::asio::this_coro::executor;
  for (int i = 0; i < 3; ++i) {
    boost::asio::steady_timer timer(ex, std::chrono::milliseconds(delay_ms));
    co_await timer.async_wait(boost::asio::use_awaitable);
    auto current = trace::current_span();
    seen.push_back(current.span_id_hex() == expected.span_id_hex() ? "ok" : "wrong");
    auto child = trace::start_span("child");  // child of this chain's span
    seen.push_back(child.parent_span_id_hex() == expected.span_id_hex() ? "ok" : "wrong-parent");
  }
}
}  // namespace

TEST(Tracer, CurrentSpanFollowsEachCoroutineAcrossSuspensions) {
  Installed t;
  boost::asio::io_context io;
  auto a = trace::start_span("a");
  auto b = trace::start_span("b");
  std::vector<std::string> seen_a, seen_b;
  boost::asio::co_spawn(io, trace::run_in_span(a, worker(a, seen_a, 1)), boost::asio::detached);
  boost::asio::co_spawn(io, trace::run_in_span(b, worker(b, seen_b, 2)), boost::asio::detached);
  io.run();
  EXPECT_EQ(seen_a, std::vector<std::string>(6, "ok"));
  EXPECT_EQ(seen_b, std::vector<std::string>(6, "ok"));
  EXPECT_FALSE(trace::current_span().valid());  // nothing leaks to the thread
}

namespace {
// A connection's chain: one request span after the other set in place (ChainSpanScope).
Task<void> connection(std::vector<trace::Span> requests, std::vector<std::string>& seen,
                      int delay_ms) {
  for (const auto& request : requests) {
    EXPECT_TRUE(in_context_chain());
    const ChainSpanScope scope(request);
    auto work = worker(request, seen, delay_ms);
    co_await std::move(work);
  }
  seen.push_back(trace::current_span().valid() ? "leaked" : "cleared");
}
}  // namespace

TEST(Tracer, ChainSpanScopeSetsTheSpanOfItsOwnChainOnly) {
  Installed t;
  boost::asio::io_context io;
  const auto a1 = trace::start_span("a1"), a2 = trace::start_span("a2");
  const auto b1 = trace::start_span("b1"), b2 = trace::start_span("b2");
  std::vector<std::string> seen_a, seen_b;
  EXPECT_FALSE(in_context_chain());
  auto chain_a = context_executor(io.get_executor(), trace::Span());
  auto chain_b = context_executor(io.get_executor(), trace::Span());
  boost::asio::co_spawn(chain_a, connection({a1, a2}, seen_a, 1), boost::asio::detached);
  boost::asio::co_spawn(chain_b, connection({b1, b2}, seen_b, 2), boost::asio::detached);
  io.run();
  std::vector<std::string> expected(12, "ok");
  expected.push_back("cleared");
  EXPECT_EQ(seen_a, expected);  // interleaved with b's requests, each saw its own span
  EXPECT_EQ(seen_b, expected);
  EXPECT_FALSE(trace::current_span().valid());  // nothing leaks to the thread
}

TEST(Tracer, RunInSpanReturnsTheValue) {
  Installed t;
  boost::asio::io_context io;
  auto span = trace::start_span("v");
  int result = 0;
  auto body = []() -> Task<int> { co_return trace::current_span().valid() ? 42 : -1; };
  auto outer = [&]() -> Task<void> { result = co_await trace::run_in_span(span, body()); };
  boost::asio::co_spawn(io, outer(), boost::asio::detached);
  io.run();
  EXPECT_EQ(result, 42);
}

TEST(Tracer, WithoutContextWorkRunsWithNoSpanCurrent) {
  Installed t;
  boost::asio::io_context io;
  auto span = trace::start_span("handler");
  std::string inside, detached;
  auto body = [&]() -> Task<void> {
    // What a handler's first publish does when it opens a connection for the process.
    auto executor = co_await boost::asio::this_coro::executor;
    inside = trace::current_span().span_id_hex();
    boost::asio::co_spawn(
        without_context(executor),
        [&]() -> Task<void> {
          // (co_spawn may start it inline, inside the handler's turn: look after a turn.)
          auto own = co_await boost::asio::this_coro::executor;
          co_await boost::asio::post(own, boost::asio::use_awaitable);
          detached = trace::current_span().valid() ? "span" : "none";
        },
        boost::asio::detached);
  };
  boost::asio::co_spawn(io, trace::run_in_span(span, body()), boost::asio::detached);
  io.run();
  EXPECT_EQ(inside, span.span_id_hex());
  EXPECT_EQ(detached, "none");
  EXPECT_TRUE(without_context(io.get_executor()) ==
              boost::asio::any_io_executor(io.get_executor()));
}

TEST(Tracer, TraceLogFieldsInUpstreamsHexForm) {
  EXPECT_TRUE(current_trace_log_fields().empty());
  Installed t;
  EXPECT_TRUE(current_trace_log_fields().empty());  // no current span
  auto remote = parse_traceparent("00-000000000000000000000000000000ff-00000000000000a1-01");
  auto span = tracer()->start_span("x", trace::SpanKind::consumer, {}, remote);
  trace::Scope scope(span);
  auto fields = current_trace_log_fields();
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0].first, "span_id");
  EXPECT_EQ(fields[1], (std::pair<std::string, std::string>{"trace_id", "0xff"}));
  EXPECT_EQ(fields[2], (std::pair<std::string, std::string>{"parent_span_id", "0xa1"}));
  trace::Scope root_scope(trace::start_span("root-less"));  // child of x: still has a parent
  EXPECT_EQ(current_trace_log_fields().size(), 3u);
}
