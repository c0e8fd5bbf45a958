#include "telemetry/metrics.hpp"

#include <tomodachi/detail/assert.hpp>
#include <tomodachi/error.hpp>

#include <algorithm>
#include <charconv>

namespace tomodachi::telemetry {

const std::vector<double>& duration_buckets() {
  static const std::vector<double> buckets{0,   0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                           0.5, 0.75,  1,    2.5,   5,    7.5,   10};
  return buckets;
}

const std::vector<InstrumentSpec>& upstream_instruments() {
  using K = InstrumentSpec::Kind;
  const std::vector<std::string> sqs_keys{
      "messaging.destination.name", "messaging.destination.kind",
      "messaging.destination_publish.name", "messaging.destination_publish.kind", "code.function"};
  const std::vector<std::string> amqp_keys{
      "messaging.destination.name", "messaging.rabbitmq.destination.routing_key", "code.function"};
  static const std::vector<InstrumentSpec> specs{
      {"http.server.duration",
       "s",
       "Measures the duration of inbound HTTP requests.",
       K::histogram,
       {"http.route", "http.request.method", "http.response.status_code", "network.protocol.name",
        "network.protocol.version", "server.address", "server.port", "url.scheme"}},
      {"http.server.active_requests",
       "{request}",
       "Measures the number of concurrent HTTP requests that are currently in-flight.",
       K::up_down_counter,
       {"http.request.method", "server.address", "server.port", "url.scheme"}},
      {"messaging.aws_sqs.duration", "s",
       "Measures the duration of processing a message by the handler function.", K::histogram,
       sqs_keys},
      {"messaging.aws_sqs.active_tasks", "{message}",
       "Measures the number of concurrent SQS messages that are currently being processed.",
       K::up_down_counter, sqs_keys},
      {"messaging.rabbitmq.duration", "s",
       "Measures the duration of processing a message by the handler function.", K::histogram,
       amqp_keys},
      {"messaging.rabbitmq.active_tasks", "{message}",
       "Measures the number of concurrent AMQP messages that are currently being processed.",
       K::up_down_counter, amqp_keys},
      {"function.duration",
       "s",
       "Measures the duration of running the scheduled handler function.",
       K::histogram,
       {"code.function"}},
      {"function.active_tasks",
       "{task}",
       "Measures the number of concurrent invocations of the scheduled handler that is currently "
       "running.",
       K::up_down_counter,
       {"code.function"}},
  };
  return specs;
}

const InstrumentSpec& instrument(std::string_view name) {
  for (const auto& spec : upstream_instruments()) {
    if (spec.name == name) return spec;
  }
  throw ArgumentError("unknown instrument " + std::string(name));
}

MetricsRegistry::MetricsRegistry(bool exemplars)
    : start_time_unix_nano_(unix_nanos_now()), exemplars_(exemplars) {
  for (const auto& spec : upstream_instruments()) instruments_.push_back({&spec, {}});
}

namespace {
// The key of an attribute set, written into `key` (reused: a lookup allocates nothing once
// the buffer has grown to the longest key).
void series_key(const std::vector<const std::pair<std::string, AttributeValue>*>& attributes,
                std::string& key) {
  key.clear();
  char number[32];
  for (const auto* kv : attributes) {
    key += kv->first;
    key += '\x1f';
    std::visit(
        [&](const auto& x) {
          using V = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<V, std::string>) {
            key += 's';
            key += x;
          } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
            for (const auto& s : x) {
              key += 'a';
              key += s;
              key += '\x1d';
            }
          } else if constexpr (std::is_same_v<V, bool>) {
            key += x ? "b1" : "b0";
          } else {
            key += 'n';
            const auto [end, ec] = std::to_chars(number, number + sizeof number, x);
            TOMODACHI_ASSERT(ec == std::errc(), "a number fits in 32 characters");
            key.append(number, end);
          }
        },
        kv->second);
    key += '\x1e';
  }
}
}  // namespace

MetricsRegistry::Series& MetricsRegistry::series(std::string_view name,
                                                 const Attributes& attributes,
                                                 const Attributes& extra) {
  auto it = std::find_if(instruments_.begin(), instruments_.end(),
                         [&](auto& i) { return i.spec->name == name; });
  if (it == instruments_.end()) throw ArgumentError("unknown instrument " + std::string(name));
  // Pointers into the caller's attributes: nothing is copied unless the series is new.
  auto& kept = scratch_kept_;
  auto& key = scratch_key_;
  kept.clear();
  for (const auto& wanted : it->spec->attribute_keys) {
    // A key `extra` sets (the status code, function.success) is `extra`'s alone.
    const bool overridden =
        std::any_of(extra.begin(), extra.end(), [&](const auto& kv) { return kv.first == wanted; });
    if (overridden) continue;
    for (const auto& kv : attributes) {
      if (kv.first == wanted) {
        kept.push_back(&kv);
        break;  // one value per key
      }
    }
  }
  for (const auto& kv : extra) kept.push_back(&kv);
  // Keyed in the instrument's key order (then `extra`'s): the same set gives the same key
  // whatever the caller's order, without sorting per call; the stored set is sorted once.
  series_key(kept, key);
  if (auto found = it->series.find(std::string_view(key)); found != it->series.end())
    return found->second;
  Series& created = it->series[key];
  for (const auto* kv : kept) created.attributes.push_back(*kv);
  std::sort(created.attributes.begin(), created.attributes.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  created.histogram.explicit_bounds = duration_buckets();
  created.histogram.bucket_counts.assign(duration_buckets().size() + 1, 0);
  return created;
}

std::optional<Exemplar> MetricsRegistry::exemplar_of(double value, const trace::Span* span) const {
  if (!exemplars_) return std::nullopt;
  // exemplars.py ExemplarReservoir.offer: only for a valid, sampled span.
  const trace::Span current = span != nullptr ? *span : trace::current_span();
  if (!current.valid() || (current.state()->data.trace_flags & 0x01) == 0) return std::nullopt;
  return Exemplar{value, unix_nanos_now(), current.trace_id(), current.span_id()};
}

void MetricsRegistry::record_into(Series& s, double value,
                                  const std::optional<Exemplar>& exemplar) {
  auto& h = s.histogram;
  const auto& bounds = h.explicit_bounds;
  // Buckets are (previous, bound]: the first bound >= value.
  auto index = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) -
                                        bounds.begin());
  if (exemplar) {
    if (s.pools.empty()) s.pools.resize(h.bucket_counts.size());
    auto& pool = s.pools[index];
    if (pool.size() >= 30) pool.pop_front();
    pool.push_back(*exemplar);
  }
  ++h.bucket_counts[index];
  ++h.count;
  h.sum += value;
  h.min = h.min ? std::min(*h.min, value) : value;
  h.max = h.max ? std::max(*h.max, value) : value;
}

void MetricsRegistry::record(std::string_view name, double value, const Attributes& attributes,
                             const Attributes& extra, const trace::Span* span) {
  const std::optional<Exemplar> exemplar = exemplar_of(value, span);
  std::lock_guard lock(mutex_);
  record_into(series(name, attributes, extra), value, exemplar);
}

void MetricsRegistry::record(SeriesHandle handle, double value, const trace::Span* span) {
  TOMODACHI_ASSERT(handle.series_ != nullptr, "a handle from series_handle()");
  const std::optional<Exemplar> exemplar = exemplar_of(value, span);
  std::lock_guard lock(mutex_);
  record_into(*handle.series_, value, exemplar);
}

void MetricsRegistry::add(std::string_view name, std::int64_t delta, const Attributes& attributes,
                          const Attributes& extra) {
  std::lock_guard lock(mutex_);
  series(name, attributes, extra).sum += delta;
}

MetricsRegistry::SeriesHandle MetricsRegistry::series_handle(std::string_view name,
                                                             const Attributes& attributes,
                                                             const Attributes& extra) {
  std::lock_guard lock(mutex_);
  return SeriesHandle(&series(name, attributes, extra));
}

void MetricsRegistry::add(SeriesHandle handle, std::int64_t delta) {
  TOMODACHI_ASSERT(handle.series_ != nullptr, "a handle from series_handle()");
  std::lock_guard lock(mutex_);
  handle.series_->sum += delta;
}

std::vector<MetricData> MetricsRegistry::collect() const { return snapshot(false); }

std::vector<MetricData> MetricsRegistry::collect_for_prometheus() { return snapshot(exemplars_); }

namespace {
// prometheus.py _receive_metrics for a histogram point: per bucket with a count, the
// largest exemplar of the bucket within the point's time window and not above its bound;
// a bucket without one repeats the previous bucket's. Then (the reservoir's reset) each
// pool keeps only its most recent exemplar.
std::vector<std::optional<Exemplar>> pick_exemplars(const HistogramPoint& h,
                                                    std::vector<std::deque<Exemplar>>& pools,
                                                    std::uint64_t start, std::uint64_t now) {
  std::vector<std::optional<Exemplar>> picked;
  std::optional<Exemplar> current;
  for (std::size_t i = 0; i < h.bucket_counts.size(); ++i) {
    if (h.bucket_counts[i] != 0 && i < pools.size()) {
      const Exemplar* best = nullptr;
      for (const auto& e : pools[i]) {
        if (e.time_unix_nano < start || e.time_unix_nano > now) continue;
        if (i < h.explicit_bounds.size() && e.value > h.explicit_bounds[i]) continue;
        if (best == nullptr || e.value > best->value) best = &e;
      }
      if (best != nullptr) current = *best;
    }
    picked.push_back(current);
  }
  for (auto& pool : pools) {
    if (pool.size() > 1) pool.erase(pool.begin(), pool.end() - 1);
  }
  return picked;
}
}  // namespace

std::vector<MetricData> MetricsRegistry::snapshot(bool exemplars) const {
  std::lock_guard lock(mutex_);
  std::vector<MetricData> out;
  const auto now = unix_nanos_now();
  for (const auto& instrument : instruments_) {
    if (instrument.series.empty()) continue;
    MetricData metric;
    metric.name = instrument.spec->name;
    metric.unit = instrument.spec->unit;
    metric.description = instrument.spec->description;
    const bool histogram = instrument.spec->kind == InstrumentSpec::Kind::histogram;
    metric.type = histogram ? MetricData::Type::histogram : MetricData::Type::sum;
    metric.monotonic = false;
    for (const auto& [key, s] : instrument.series) {
      MetricPoint point{s.attributes, start_time_unix_nano_, now, std::int64_t{0}};
      if (histogram) {
        point.value = s.histogram;
        if (exemplars) {
          std::get<HistogramPoint>(point.value).exemplars =
              pick_exemplars(s.histogram, s.pools, start_time_unix_nano_, now);
        }
      } else {
        point.value = s.sum;
      }
      metric.points.push_back(std::move(point));
    }
    out.push_back(std::move(metric));
  }
  return out;
}

}  // namespace tomodachi::telemetry
