#include "http/server_metrics.hpp"

#include <algorithm>

namespace tomodachi::http_impl {

namespace {
// Distinct attribute sets kept before the cache starts over (the registry keeps every
// series regardless; this only bounds the cache of handles to them).
constexpr std::size_t max_cached = 4096;
}  // namespace

CachedSeries& ServerMetrics::series(telemetry::MetricsRegistry& registry, const std::string& key) {
  if (registry_ != &registry || series_.size() >= max_cached) {
    series_.clear();
    registry_ = &registry;
    ++epoch_;
  }
  return series_[key];
}

ServerMetrics::InFlight ServerMetrics::begin(telemetry::MetricsRegistry& registry, std::string key,
                                             const AttributesFn& attributes) {
  CachedSeries& cached = series(registry, key);
  if (!cached.active)
    cached.active = registry.series_handle("http.server.active_requests", attributes());
  registry.add(cached.active, 1);
  return InFlight{&registry, std::move(key), cached.active, &cached, epoch_};
}

void ServerMetrics::end(InFlight& request, std::int64_t status, double seconds,
                        const trace::Span& span, const AttributesFn& attributes) {
  if (request.registry == nullptr) return;
  telemetry::MetricsRegistry& registry = *request.registry;
  registry.add(request.active, -1);
  // begin()'s entry, unless the cache started over meanwhile (then looked up again).
  CachedSeries& cached = request.epoch == epoch_ && registry_ == &registry
                             ? *request.series
                             : series(registry, request.key);
  auto found = std::find_if(cached.duration.begin(), cached.duration.end(),
                            [status](const auto& entry) { return entry.first == status; });
  if (found == cached.duration.end()) {
    const trace::Attributes extra{{"http.response.status_code", status}};
    cached.duration.emplace_back(
        status, registry.series_handle("http.server.duration", attributes(), extra));
    found = cached.duration.end() - 1;
  }
  registry.record(found->second, seconds, &span);
}

}  // namespace tomodachi::http_impl
