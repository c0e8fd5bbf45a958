// Exports a known span tree, log records and metrics with the OTEL_* environment given
// (endpoint, protocol, compression), then prints what it made as one JSON line for
// test_otlp_export.py to compare against what the independent receiver decoded.
#include "telemetry/pipeline.hpp"

#include <tomodachi/logging.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <iostream>

using namespace tomodachi;
using namespace tomodachi::telemetry;

namespace {

// Built outside the coroutine (GCC 12 mishandles braced lists inside coroutines).
std::vector<MetricData> sample_metrics() {
  MetricData duration{"http.server.duration", "", "s", MetricData::Type::histogram, false, {}};
  HistogramPoint hp;
  hp.count = 2;
  hp.sum = 0.3;
  hp.explicit_bounds = {0,   0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                        0.5, 0.75,  1,    2.5,   5,    7.5,   10};
  hp.bucket_counts.assign(hp.explicit_bounds.size() + 1, 0);
  hp.bucket_counts[7] = 1;
  hp.bucket_counts[8] = 1;
  auto now = unix_nanos_now();
  duration.points.push_back(
      {{{"http.route", std::string("/x")}, {"function.success", true}}, now - 1000, now, hp});
  MetricData active{"http.server.active_requests", "",    "{request}",
                    MetricData::Type::sum,         false, {}};
  active.points.push_back(
      {{{"http.request.method", std::string("GET")}}, now - 1000, now, std::int64_t{1}});
  return {duration, active};
}

Task<void> handler(boost::json::object& out) {
  auto span = trace::current_span();
  span.set_attribute("http.route", std::string("/resource/(?P<id>[^/]+?)/?"));
  auto child = trace::start_span("lookup", trace::SpanKind::client, {{"db.rows", std::int64_t{3}}});
  child.add_event("cache miss", {{"hit", false}});
  child.end();
  get_logger("tomodachi").info("handled request", {{"status", 500}});
  out["child_span_id"] = child.span_id_hex();
  co_return;
}

Task<void> run(boost::asio::io_context& io, Pipeline& pipeline, boost::json::object& out) {
  // A consumer continuing a trace started by a Python service (header as its propagator writes it).
  auto remote = parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  auto consumer = tracer()->start_span("orders.created process", trace::SpanKind::consumer,
                                       {{"messaging.system", std::string("rabbitmq")},
                                        {"messaging.operation", std::string("process")}},
                                       remote);
  consumer.end();
  auto server = tracer()->start_span(
      "GET /resource/(?P<id>[^/]+?)/?", trace::SpanKind::server,
      {{"http.request.method", std::string("GET")}, {"server.port", std::int64_t{80}}});
  co_await trace::run_in_span(server, handler(out));
  server.record_exception(std::make_exception_ptr(std::runtime_error("boom")));
  server.set_status(trace::StatusCode::error);
  server.set_attribute("http.response.status_code", std::int64_t{500});
  server.end();
  auto schedule = tracer()->start_span("every_minute", trace::SpanKind::internal,
                                       {{"function.trigger", std::string("timer")}}, std::nullopt,
                                       ParentMode::root);
  schedule.end();
  out["consumer_span_id"] = consumer.span_id_hex();
  out["consumer_trace_id"] = consumer.trace_id_hex();
  out["server_trace_id"] = server.trace_id_hex();
  out["server_span_id"] = server.span_id_hex();
  out["schedule_trace_id"] = schedule.trace_id_hex();

  std::vector<MetricData> metrics = sample_metrics();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  out["metrics_ok"] = co_await pipeline.export_metrics(std::move(metrics), deadline);
  co_await pipeline.shutdown(deadline);
  io.stop();
}

}  // namespace

int main() {
  try {
    boost::asio::io_context io;
    Config config = load_config(process_env());
    Pipeline pipeline(io.get_executor(), config, "orders", "11111111-2222-3333-4444-555555555555",
                      "0.1.0");
    boost::json::object out;
    boost::asio::co_spawn(io, run(io, pipeline, out), boost::asio::detached);
    io.run();
    out["dropped"] = pipeline.dropped_spans();
    std::cout << boost::json::serialize(out) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "otlp_export_tool: " << e.what() << std::endl;
    return 2;
  }
}
