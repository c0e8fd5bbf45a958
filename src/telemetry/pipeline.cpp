#include "telemetry/pipeline.hpp"

#include <boost/json.hpp>

#include <cstdio>

namespace tomodachi::telemetry {
namespace {

class SpanBatchSink : public SpanSink {
 public:
  explicit SpanBatchSink(std::shared_ptr<BatchProcessor<SpanData>> processor)
      : processor_(std::move(processor)) {}
  void on_end(SpanData&& span) override {
    if (processor_) processor_->push(std::move(span));
  }

 private:
  std::shared_ptr<BatchProcessor<SpanData>> processor_;
};

int severity_of(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return 5;
    case LogLevel::info:
      return 9;
    case LogLevel::warning:
      return 13;
    case LogLevel::error:
      return 17;
    case LogLevel::critical:
      return 21;
  }
  return 0;
}

std::string severity_text(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "DEBUG";
    case LogLevel::info:
      return "INFO";
    case LogLevel::warning:
      return "WARN";
    case LogLevel::error:
      return "ERROR";
    case LogLevel::critical:
      return "FATAL";
  }
  return "INFO";
}

// A batch processor whose export encodes one batch and POSTs it to the signal's endpoint
// (`otlp`) and/or writes it to stdout as one OTLP JSON line (`console`).
template <typename Item>
std::shared_ptr<BatchProcessor<Item>> make_batch(
    boost::asio::any_io_executor executor, ExporterChoice choice, const OtlpConfig& otlp,
    Signal signal, const BatchConfig& batch, KeyValues resource, ScopeInfo scope,
    std::string (*encode)(const KeyValues&, const ScopeInfo&, const std::vector<Item>&, Protocol),
    std::string what) {
  std::shared_ptr<OtlpHttpExporter> exporter;
  if (choice.otlp) exporter = std::make_shared<OtlpHttpExporter>(executor, otlp, signal);
  auto export_batch = [exporter, console = choice.console, resource = std::move(resource),
                       scope = std::move(scope), encode, protocol = otlp.protocol](
                          std::vector<Item> items,
                          std::chrono::steady_clock::time_point deadline) -> Task<bool> {
    if (console) {
      std::string line = encode(resource, scope, items, Protocol::http_json) + "\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
    }
    if (!exporter) co_return true;
    std::string body = encode(resource, scope, items, protocol);
    co_return co_await exporter->post(std::move(body), deadline);
  };
  return std::make_shared<BatchProcessor<Item>>(std::move(executor), batch, std::move(export_batch),
                                                std::move(what));
}

}  // namespace

LogData to_log_data(const LogRecord& record) {
  LogData data;
  data.time_unix_nano = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(record.time.time_since_epoch()).count());
  data.observed_time_unix_nano = unix_nanos_now();
  data.severity_number = severity_of(record.level);
  data.severity_text = severity_text(record.level);
  data.body = record.message ? std::string(*record.message) : std::string();
  data.attributes.emplace_back("logger", std::string(record.logger));
  for (const auto& field : record.fields) {
    const auto& v = field.value;
    if (v.is_string()) {
      data.attributes.emplace_back(field.key, std::string(v.get_string()));
    } else if (v.is_bool()) {
      data.attributes.emplace_back(field.key, v.get_bool());
    } else if (v.is_int64()) {
      data.attributes.emplace_back(field.key, v.get_int64());
    } else if (v.is_double()) {
      data.attributes.emplace_back(field.key, v.get_double());
    } else {
      data.attributes.emplace_back(field.key, boost::json::serialize(v));
    }
  }
  auto span = trace::current_span();
  if (span.valid()) {
    data.trace_id = span.trace_id();
    data.span_id = span.span_id();
    data.trace_flags = span.state()->data.trace_flags;
  }
  return data;
}

struct Pipeline::Impl {
  KeyValues resource;
  KeyValues metrics_resource;
  ScopeInfo scope;
  std::shared_ptr<OtlpHttpExporter> metric_exporter;
  std::shared_ptr<BatchProcessor<SpanData>> spans;
  std::shared_ptr<BatchProcessor<LogData>> logs;
  Protocol metric_protocol{};
  int log_sink = -1;
};

Pipeline::Pipeline(boost::asio::any_io_executor executor, Config config, std::string service_name,
                   std::string service_uuid, std::string version)
    : impl_(std::make_shared<Impl>()), config_(std::move(config)) {
  auto& impl = *impl_;
  impl.resource = build_resource(config_, service_name, service_uuid, false);
  impl.metrics_resource = build_resource(config_, service_name, service_uuid, true);
  impl.scope.version = version;
  if (config_.traces.any()) {
    impl.spans = make_batch<SpanData>(executor, config_.traces, config_.otlp_traces, Signal::traces,
                                      config_.span_batch, impl.resource, impl.scope, &encode_traces,
                                      "spans");
  }
  if (config_.logs.any()) {
    impl.logs = make_batch<LogData>(executor, config_.logs, config_.otlp_logs, Signal::logs,
                                    config_.log_batch, impl.resource, impl.scope, &encode_logs,
                                    "log records");
    std::weak_ptr<Impl> weak = impl_;
    impl.log_sink = add_log_sink([weak](const LogRecord& record) {
      if (record.logger == "tomodachi.opentelemetry") return;  // the exporter's own records
      if (auto self = weak.lock(); self && self->logs) self->logs->push(to_log_data(record));
    });
  }
  if (config_.metrics.otlp) {
    impl.metric_exporter =
        std::make_shared<OtlpHttpExporter>(executor, config_.otlp_metrics, Signal::metrics);
    impl.metric_protocol = config_.otlp_metrics.protocol;
  }
  install_tracer(
      std::make_shared<Tracer>(Sampler(config_.sampler),
                               impl.spans ? std::make_shared<SpanBatchSink>(impl.spans) : nullptr));
}

Pipeline::~Pipeline() {
  install_tracer(nullptr);
  if (impl_->log_sink >= 0) remove_log_sink(impl_->log_sink);
}

void Pipeline::emit_log(LogData record) {
  if (impl_->logs) impl_->logs->push(std::move(record));
}

const KeyValues& Pipeline::metrics_resource() const noexcept { return impl_->metrics_resource; }
const ScopeInfo& Pipeline::scope() const noexcept { return impl_->scope; }

std::uint64_t Pipeline::dropped_spans() const { return impl_->spans ? impl_->spans->dropped() : 0; }

Task<void> Pipeline::shutdown(std::chrono::steady_clock::time_point deadline) {
  auto impl = impl_;
  if (impl->spans) co_await impl->spans->flush(deadline);
  if (impl->logs) co_await impl->logs->flush(deadline);
}

Task<bool> Pipeline::export_metrics(std::vector<MetricData> metrics,
                                    std::chrono::steady_clock::time_point deadline) {
  auto impl = impl_;
  if (config_.metrics.console) {  // as the traces' and logs' console exporter: one OTLP JSON line
    std::string line =
        encode_metrics(impl->metrics_resource, impl->scope, metrics, Protocol::http_json) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
  if (!impl->metric_exporter) co_return config_.metrics.console;
  std::string body =
      encode_metrics(impl->metrics_resource, impl->scope, metrics, impl->metric_protocol);
  co_return co_await impl->metric_exporter->post(std::move(body), deadline);
}

}  // namespace tomodachi::telemetry
