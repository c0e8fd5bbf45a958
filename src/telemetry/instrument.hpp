#pragma once
// The process's instrumentation switch and its one telemetry::Pipeline: requested by
// `tomodachi run --opentelemetry-instrument` (or TOMODACHI_OPENTELEMETRY_INSTRUMENT),
// created by the launcher once the loop and the first service's name/uuid are known,
// flushed within the stop deadline after the transports stopped. While off nothing here
// is created and every hook is one pointer check.

#include "telemetry/config.hpp"
#include "telemetry/metrics.hpp"

#include <tomodachi/task.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <string>

namespace tomodachi::telemetry {

/// Turns instrumentation on for the launches of this process with `config` (already
/// validated: load_config throws ConfigError at start-up).
void request_instrumentation(Config config);
/// Turns it off again (tests).
void clear_instrumentation_request();
bool instrumentation_requested() noexcept;
/// The requested configuration (nullptr while off).
const Config* instrumentation_config() noexcept;

/// Launcher: creates the process's pipeline (once per launch) when instrumentation was
/// requested; a no-op otherwise or when it exists.
void start_process_pipeline(boost::asio::any_io_executor executor, const std::string& service_name,
                            const std::string& service_uuid);

/// Launcher: exports what is queued (spans, log records, a last metrics snapshot) within
/// `deadline`, then removes the pipeline (the tracer is uninstalled).
Task<void> shutdown_process_pipeline(std::chrono::steady_clock::time_point deadline);

/// The process's metric instruments, nullptr while instrumentation is off.
MetricsRegistry* metrics() noexcept;

}  // namespace tomodachi::telemetry
