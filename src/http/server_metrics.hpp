#pragma once
// The http.server.* instruments of traced requests (upstream's OpenTelemetryAioHTTPMiddleware
// metrics), with their registry series cached by what sets their attributes: method, route,
// server address and port, protocol version (and the status for the duration). A request
// then costs one hash lookup per instrument instead of the registry's attribute filtering.

#include "telemetry/metrics.hpp"

#include <tomodachi/trace.hpp>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tomodachi::http_impl {

/// The cached series of one attribute set: active requests, and the duration by status.
struct CachedSeries {
  telemetry::MetricsRegistry::SeriesHandle active;
  std::vector<std::pair<std::int64_t, telemetry::MetricsRegistry::SeriesHandle>> duration;
};

class ServerMetrics {
 public:
  /// One request between begin() and end().
  struct InFlight {
    telemetry::MetricsRegistry* registry = nullptr;
    std::string key;
    telemetry::MetricsRegistry::SeriesHandle active;  ///< valid as long as the registry
    CachedSeries* series = nullptr;  ///< the cache entry, valid while `epoch` is current
    std::uint64_t epoch = 0;
  };
  /// What gives the request's attributes when a series is new (rarely): a non-owning
  /// reference to a callable (no allocation per request).
  class AttributesFn {
   public:
    template <typename F>
    AttributesFn(const F& f)  // NOLINT: implicit from any callable
        : callable_(&f), call_([](const void* c) -> const trace::Attributes& {
            return (*static_cast<const F*>(c))();
          }) {}
    const trace::Attributes& operator()() const { return call_(callable_); }

   private:
    const void* callable_;
    const trace::Attributes& (*call_)(const void*);
  };

  /// `key`: the values the metric attributes are made of; active_requests +1.
  InFlight begin(telemetry::MetricsRegistry& registry, std::string key,
                 const AttributesFn& attributes);
  /// active_requests -1 and the duration with the response status.
  void end(InFlight& request, std::int64_t status, double seconds, const trace::Span& span,
           const AttributesFn& attributes);

 private:
  CachedSeries& series(telemetry::MetricsRegistry& registry, const std::string& key);

  telemetry::MetricsRegistry* registry_ = nullptr;        ///< the one the handles belong to
  std::unordered_map<std::string, CachedSeries> series_;  ///< node-based: entries stay put
  std::uint64_t epoch_ = 0;                               ///< +1 each time the cache starts over
};

}  // namespace tomodachi::http_impl
