#pragma once
// The configured telemetry of one process: the tracer and span batching to OTLP, and a
// log sink exporting records over OTLP. Nothing of it exists while instrumentation is off.

#include "telemetry/batch_processor.hpp"
#include "telemetry/otlp_encode.hpp"
#include "telemetry/otlp_http_exporter.hpp"
#include "telemetry/tracer.hpp"

#include <memory>

namespace tomodachi::telemetry {

class Pipeline {
 public:
  /// Builds the exporters `config` selects and installs the tracer (also when no traces
  /// exporter is set: spans still carry context to logs and messages).
  Pipeline(boost::asio::any_io_executor executor, Config config, std::string service_name,
           std::string service_uuid, std::string version);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// Exports everything queued (traces, logs) within `deadline`.
  Task<void> shutdown(std::chrono::steady_clock::time_point deadline);

  /// Queues a log record for the logs exporter (no-op without one).
  void emit_log(LogData record);

  /// Exports one metrics snapshot now (no-op without a metrics exporter).
  Task<bool> export_metrics(std::vector<MetricData> metrics,
                            std::chrono::steady_clock::time_point deadline);

  const Config& config() const noexcept { return config_; }
  /// The meter's resource (upstream adds the service uuid to it even for `service`/`app`).
  const KeyValues& metrics_resource() const noexcept;
  const ScopeInfo& scope() const noexcept;
  std::uint64_t dropped_spans() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  Config config_;
};

/// Converts one record of the project's logger to an OTLP log record, with the current
/// span's ids (as LoggingHandler does).
LogData to_log_data(const LogRecord& record);

}  // namespace tomodachi::telemetry
