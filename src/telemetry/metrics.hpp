#pragma once
// Upstream's instruments (names, units, descriptions, attribute keys, buckets) and a
// cumulative aggregator for them: histograms with explicit buckets and up-down counters,
// one series per attribute set. Thread-safe; recording is a map lookup under a mutex.

#include "telemetry/otlp_encode.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tomodachi::telemetry {

struct InstrumentSpec {
  enum class Kind { histogram, up_down_counter };
  std::string name;
  std::string unit;
  std::string description;
  Kind kind;
  std::vector<std::string>
      attribute_keys;  ///< kept from the caller's attributes (plus function.success)
};

/// Upstream's duration buckets (distro.py): the semconv list with a leading 0.
const std::vector<double>& duration_buckets();

/// Upstream's instruments (middleware.py), in its order.
const std::vector<InstrumentSpec>& upstream_instruments();
const InstrumentSpec& instrument(std::string_view name);  ///< throws ArgumentError

class MetricsRegistry {
  struct Series;

 public:
  /// `exemplars`: keep, per histogram bucket, measurements recorded while a sampled span
  /// was current, as upstream's AlignedHistogramBucketExemplarReservoir (exemplars.py).
  explicit MetricsRegistry(bool exemplars = false);
  /// Adds one duration in seconds to histogram `name` (attributes filtered to its keys,
  /// then `extra` added, e.g. function.success). `span`: the span the measurement belongs
  /// to, for exemplars (nullptr: the current span).
  void record(std::string_view name, double value, const Attributes& attributes,
              const Attributes& extra = {}, const trace::Span* span = nullptr);
  /// Adds `delta` to up-down counter `name`.
  void add(std::string_view name, std::int64_t delta, const Attributes& attributes,
           const Attributes& extra = {});
  /// A series looked up once, for a value changed twice (an up-down counter's +1 and -1
  /// around a request): the second change skips the attribute filtering and the key.
  /// Valid as long as the registry (series are never removed).
  class SeriesHandle {
   public:
    SeriesHandle() = default;
    explicit operator bool() const noexcept { return series_ != nullptr; }

   private:
    friend class MetricsRegistry;
    explicit SeriesHandle(Series* series) : series_(series) {}
    Series* series_ = nullptr;
  };
  SeriesHandle series_handle(std::string_view name, const Attributes& attributes,
                             const Attributes& extra = {});
  void add(SeriesHandle handle, std::int64_t delta);
  /// Adds one duration to a histogram series looked up before (its exemplar as record()'s).
  void record(SeriesHandle handle, double value, const trace::Span* span = nullptr);
  /// A cumulative snapshot (instruments without data are left out).
  std::vector<MetricData> collect() const;
  /// The same for a Prometheus scrape: with exemplars on, each histogram bucket gets
  /// upstream's pick (the largest value in the bucket, else the previous bucket's) and the
  /// reservoirs are reset to their most recent exemplar.
  std::vector<MetricData> collect_for_prometheus();

 private:
  struct Series {
    Attributes attributes;
    HistogramPoint histogram;
    std::int64_t sum = 0;
    /// Per bucket, at most 30 (upstream's pool); reset by a Prometheus collect.
    mutable std::vector<std::deque<Exemplar>> pools;
  };
  struct Instrument {
    const InstrumentSpec* spec;
    std::map<std::string, Series, std::less<>> series;  ///< by attribute-set key
  };
  Series& series(std::string_view name, const Attributes& attributes, const Attributes& extra);
  std::optional<Exemplar> exemplar_of(double value, const trace::Span* span) const;
  static void record_into(Series& series, double value, const std::optional<Exemplar>& exemplar);

  std::vector<MetricData> snapshot(bool exemplars) const;

  mutable std::mutex mutex_;
  std::vector<Instrument> instruments_;
  // series()'s scratch (guarded by mutex_): a lookup allocates nothing once they have grown.
  std::vector<const std::pair<std::string, AttributeValue>*> scratch_kept_;
  std::string scratch_key_;
  std::uint64_t start_time_unix_nano_;
  bool exemplars_ = false;
};

}  // namespace tomodachi::telemetry
