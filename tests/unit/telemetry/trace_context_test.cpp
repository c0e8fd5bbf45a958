// W3C traceparent / tracestate, ids, python hex form.
#include "telemetry/trace_context.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace tomodachi::telemetry;

TEST(TraceContext, ParsesAndFormatsVersion00) {
  // As opentelemetry-python's TraceContextTextMapPropagator writes it.
  const std::string header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  auto context = parse_traceparent(header);
  ASSERT_TRUE(context);
  EXPECT_EQ(to_hex(context->trace_id), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(to_hex(context->span_id), "b7ad6b7169203331");
  EXPECT_TRUE(context->sampled());
  EXPECT_TRUE(context->remote);
  EXPECT_EQ(format_traceparent(*context), header);
}

TEST(TraceContext, RejectsWhatTheSpecSaysToIgnore) {
  for (const char* bad : {
           "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01",        // uppercase
           "00-00000000000000000000000000000000-b7ad6b7169203331-01",        // zero trace id
           "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",        // zero parent id
           "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",        // version ff
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  // 00 + trailing
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01",         // short
           "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",        // separator
           "0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",        // version hex
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x",        // flags hex
           "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",  // future, no dash after 55
       }) {
    EXPECT_FALSE(parse_traceparent(bad)) << bad;
  }
}

TEST(TraceContext, HigherVersionReadsFirst55Characters) {
  auto context =
      parse_traceparent("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-ever");
  ASSERT_TRUE(context);
  EXPECT_EQ(format_traceparent(*context).substr(0, 3), "00-");  // forwarded as version 00
  auto unsampled = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-fe");
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled());
}

TEST(TraceContext, Tracestate) {
  EXPECT_EQ(normalize_tracestate("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE"),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_EQ(normalize_tracestate("tenant@vendor=x"), "tenant@vendor=x");
  EXPECT_EQ(normalize_tracestate("Upper=x"), "");
  EXPECT_EQ(normalize_tracestate("a=1,a=2"), "");
  EXPECT_EQ(normalize_tracestate("novalue"), "");
  auto context =
      extract(std::string_view("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
              std::string_view("k=v"));
  ASSERT_TRUE(context);
  EXPECT_EQ(context->trace_state, "k=v");
  EXPECT_FALSE(extract(std::nullopt, std::string_view("k=v")));
}

TEST(TraceIds, RandomNonZeroAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    auto t = random_trace_id();
    auto s = random_span_id();
    EXPECT_FALSE(is_zero(t));
    EXPECT_FALSE(is_zero(s));
    seen.insert(to_hex(t));
  }
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(TraceIds, PythonHexFormIsUnpadded) {
  SpanId id{0, 0, 0x0a, 0xbc, 0, 0, 0, 1};
  EXPECT_EQ(python_hex(id.data(), id.size()), "0xabc00000001");
  SpanId zero{};
  EXPECT_EQ(python_hex(zero.data(), zero.size()), "0x0");
}
