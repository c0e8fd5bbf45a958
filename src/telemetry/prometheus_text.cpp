#include "telemetry/prometheus_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace tomodachi::telemetry {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// tomodachi's TomodachiPrometheusMetricReader._transform_metric: braces removed, lowercased,
// UNIT_TRANSFORM_MAP (a unit with '/' is left as it is: upstream computes but drops the parts).
std::string tomodachi_unit(const std::string& unit) {
  static const std::map<std::string, std::string> map{{"s", "seconds"},
                                                      {"d", "days"},
                                                      {"h", "hours"},
                                                      {"min", "minutes"},
                                                      {"ms", "milliseconds"},
                                                      {"us", "microseconds"},
                                                      {"ns", "nanoseconds"},
                                                      {"second", "seconds"},
                                                      {"m", "meters"},
                                                      {"v", "volts"},
                                                      {"a", "amperes"},
                                                      {"j", "joules"},
                                                      {"w", "watts"},
                                                      {"g", "grams"},
                                                      {"cel", "celsius"},
                                                      {"hz", "hertz"},
                                                      {"request", "requests"},
                                                      {"req", "requests"},
                                                      {"task", "tasks"},
                                                      {"message", "messages"},
                                                      {"msg", "messages"},
                                                      {"byte", "bytes"},
                                                      {"by", "bytes"},
                                                      {"kiby", "kibibytes"},
                                                      {"miby", "mebibytes"},
                                                      {"giby", "gibibytes"},
                                                      {"tiby", "tebibytes"},
                                                      {"kby", "kilobytes"},
                                                      {"mby", "megabytes"},
                                                      {"gby", "gigabytes"},
                                                      {"tby", "terabytes"},
                                                      {"page", "pages"},
                                                      {"fault", "faults"},
                                                      {"query", "queries"},
                                                      {"invocation", "invocations"},
                                                      {"operation", "operations"},
                                                      {"packet", "packets"},
                                                      {"error", "errors"},
                                                      {"connection", "connections"},
                                                      {"thread", "threads"},
                                                      {"class", "classes"},
                                                      {"buffer", "buffers"},
                                                      {"%", "percent"},
                                                      {"1", "ratio"}};
  std::string u;
  for (char c : unit) {
    if (c != '{' && c != '}') u += c;
  }
  u = lower(u);
  if (u.find('/') != std::string::npos) return u;
  auto it = map.find(u);
  return it == map.end() ? u : it->second;
}

// `[^a-zA-Z0-9:]+` -> "_" (runs collapse), as the 1.27 exporter's _sanitize_name.
std::string sanitize_runs(const std::string& s, bool allow_colon) {
  std::string out;
  bool in_run = false;
  for (char c : s) {
    if (alnum(c) || (allow_colon && c == ':')) {
      out += c;
      in_run = false;
    } else if (!in_run) {
      out += '_';
      in_run = true;
    }
  }
  return out;
}

std::string sanitize_leading_digit(std::string s, bool allow_colon) {
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) s = "_" + s.substr(1);
  return sanitize_runs(s, allow_colon);
}

// opentelemetry-exporter-prometheus 1.27 map_unit (after tomodachi's transform).
std::string map_unit(std::string unit) {
  static const std::map<std::string, std::string> mappings{{"d", "days"},
                                                           {"h", "hours"},
                                                           {"min", "minutes"},
                                                           {"s", "seconds"},
                                                           {"ms", "milliseconds"},
                                                           {"us", "microseconds"},
                                                           {"ns", "nanoseconds"},
                                                           {"By", "bytes"},
                                                           {"KiBy", "kibibytes"},
                                                           {"MiBy", "mebibytes"},
                                                           {"GiBy", "gibibytes"},
                                                           {"TiBy", "tibibytes"},
                                                           {"KBy", "kilobytes"},
                                                           {"MBy", "megabytes"},
                                                           {"GBy", "gigabytes"},
                                                           {"TBy", "terabytes"},
                                                           {"m", "meters"},
                                                           {"V", "volts"},
                                                           {"A", "amperes"},
                                                           {"J", "joules"},
                                                           {"W", "watts"},
                                                           {"g", "grams"},
                                                           {"Cel", "celsius"},
                                                           {"Hz", "hertz"},
                                                           {"1", ""},
                                                           {"%", "percent"}};
  static const std::map<std::string, std::string> per{
      {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
      {"w", "week"},   {"mo", "month"}, {"y", "year"}};
  // {.*} annotations removed (greedy)
  auto open = unit.find('{');
  if (open != std::string::npos) {
    auto close = unit.rfind('}');
    if (close != std::string::npos && close > open) unit.erase(open, close - open + 1);
  }
  if (auto it = mappings.find(unit); it != mappings.end()) return it->second;
  auto slash = unit.find('/');
  if (slash != std::string::npos) {
    std::string bottom = sanitize_runs(unit.substr(slash + 1), true);
    if (!bottom.empty()) {
      std::string top = sanitize_runs(unit.substr(0, slash), true);
      if (auto it = mappings.find(top); it != mappings.end()) top = it->second;
      if (auto it = per.find(bottom); it != per.end()) bottom = it->second;
      return top.empty() ? "per_" + bottom : top + "_per_" + bottom;
    }
  }
  std::string s = sanitize_runs(unit, true);
  while (!s.empty() && s.front() == '_') s.erase(0, 1);
  while (!s.empty() && s.back() == '_') s.pop_back();
  return s;
}

// prometheus_client's escaping: backslash and newline everywhere, '"' in label values
// (and, in OpenMetrics, in HELP text too).
std::string escape(const std::string& v, bool quotes) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || (quotes && c == '"')) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The 1.27 exporter's _check_value: str() of strings, json.dumps of the rest.
std::string label_value(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<V, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<V, double>) {
          return python_float(v);
        } else {
          std::string out = "[";
          for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", \"" : "\"") + v[i] + "\"";
          return out + "]";
        }
      },
      value);
}

// The le label: f"{bound}" of the boundaries as upstream passes them (ints print as ints:
// its bucket tuple has 0, 1, 5 and 10 as Python ints).
std::string le_text(double bound) {
  if (std::isinf(bound)) return "+Inf";
  if (bound == std::floor(bound) && std::fabs(bound) < 1e15)
    return std::to_string(static_cast<long long>(bound));
  return python_float(bound);
}

// prometheus_client writes labels sorted by name (both formats).
std::string labels_text(PromLabels labels) {
  if (labels.empty()) return "";
  std::stable_sort(labels.begin(), labels.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"" + escape(labels[i].second, true) + "\"";
  }
  return out + "}";
}

std::string value_of(const KeyValues& kvs, const std::string& key) {
  for (const auto& [k, v] : kvs) {
    if (k == key) return v;
  }
  return "";
}

// `[^\w]` -> "_" per character (tomodachi's target_info keys).
std::string sanitize_each(const std::string& s) {
  std::string out = s;
  for (auto& c : out) {
    if (!alnum(c) && c != '_') c = '_';
  }
  return out;
}

void set_label(PromLabels& labels, std::string key, std::string value) {
  for (auto& [k, v] : labels) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  labels.emplace_back(std::move(key), std::move(value));
}

std::string hex(const std::uint8_t* bytes, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0x0f];
  }
  return out;
}

// One OTel metric as the 1.27 exporter's _translate_to_prometheus makes it a family:
// sorted, sanitized attribute labels; a cumulative non-monotonic sum becomes a gauge.
PromFamily family_of(const MetricData& metric, const PrometheusOptions& options,
                     const PromLabels& common) {
  PromFamily family;
  family.name = prometheus_name(metric.name, metric.unit, options.namespace_prefix);
  family.help = metric.description;
  family.unit = map_unit(tomodachi_unit(metric.unit));
  const bool histogram = metric.type == MetricData::Type::histogram;
  const bool counter = metric.type == MetricData::Type::sum && metric.monotonic;
  if (counter && family.name.size() > 6 &&
      family.name.compare(family.name.size() - 6, 6, "_total") == 0) {
    family.name.resize(family.name.size() - 6);  // CounterMetricFamily strips it
  }
  family.type = histogram ? "histogram" : counter ? "counter" : "gauge";
  for (const auto& point : metric.points) {
    PromLabels labels;
    auto sorted = point.attributes;
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [k, v] : sorted)
      labels.emplace_back(sanitize_leading_digit(k, false), label_value(v));
    auto with_common = [&](PromLabels l) {
      for (const auto& [k, v] : common) set_label(l, k, v);
      return l;
    };
    if (const auto* h = std::get_if<HistogramPoint>(&point.value)) {
      std::uint64_t accumulated = 0;
      for (std::size_t i = 0; i < h->bucket_counts.size(); ++i) {
        accumulated += h->bucket_counts[i];
        PromLabels l = labels;
        l.emplace_back("le",
                       i < h->explicit_bounds.size() ? le_text(h->explicit_bounds[i]) : "+Inf");
        PromSample sample{family.name + "_bucket", with_common(std::move(l)),
                          static_cast<double>(accumulated), std::nullopt};
        if (i < h->exemplars.size()) sample.exemplar = h->exemplars[i];
        family.samples.push_back(std::move(sample));
      }
      family.samples.push_back({family.name + "_count", with_common(labels),
                                static_cast<double>(accumulated), std::nullopt});
      family.samples.push_back({family.name + "_sum", with_common(labels), h->sum, std::nullopt});
    } else {
      double v = std::holds_alternative<double>(point.value)
                     ? std::get<double>(point.value)
                     : static_cast<double>(std::get<std::int64_t>(point.value));
      family.samples.push_back(
          {counter ? family.name + "_total" : family.name, with_common(labels), v, std::nullopt});
    }
  }
  return family;
}

std::string type_in_text(const PromFamily& family, std::string& name) {
  name = family.name;
  if (family.type == "counter") name += "_total";
  if (family.type == "info") {
    name += "_info";
    return "gauge";
  }
  return family.type;
}

}  // namespace

std::string python_float(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (std::isnan(d)) return "nan";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d, std::chars_format::scientific);
  std::string s(buffer, end);
  std::string sign;
  if (s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  const auto e = s.find('e');
  const int exponent = std::stoi(s.substr(e + 1));
  std::string digits;
  for (char c : s.substr(0, e)) {
    if (c != '.') digits += c;
  }
  const int point = exponent + 1;  // digits are 0.DDD x 10^point
  std::string out;
  if (point <= -4 || point > 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char tail[16];
    std::snprintf(tail, sizeof tail, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += tail;
  } else if (point <= 0) {
    out = "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  } else if (static_cast<std::size_t>(point) >= digits.size()) {
    out = digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0') + ".0";
  } else {
    out = digits.substr(0, static_cast<std::size_t>(point)) + "." +
          digits.substr(static_cast<std::size_t>(point));
  }
  return sign + out;
}

std::string go_float(double d) {
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (std::isnan(d)) return "NaN";
  std::string s = python_float(d);
  auto dot = s.find('.');
  // Go switches to exponents sooner than Python (for positive values).
  if (d > 0 && dot != std::string::npos && dot > 6) {
    std::string mantissa = s.substr(0, 1) + "." + s.substr(1, dot - 1) + s.substr(dot + 1);
    while (!mantissa.empty() && (mantissa.back() == '0' || mantissa.back() == '.'))
      mantissa.pop_back();
    return mantissa + "e+0" + std::to_string(dot - 1);
  }
  return s;
}

std::string prometheus_name(const std::string& name, const std::string& unit,
                            const std::string& prefix) {
  std::string base = sanitize_leading_digit(prefix.empty() ? name : prefix + "_" + name, true);
  std::string u = map_unit(tomodachi_unit(unit));
  // prometheus_client's Metric(): the unit is appended unless the name already ends with it.
  if (!u.empty() && !(base.size() > u.size() &&
                      base.compare(base.size() - u.size() - 1, u.size() + 1, "_" + u) == 0)) {
    base += "_" + u;
  }
  return base;
}

std::vector<PromFamily> prometheus_families(const std::vector<MetricData>& metrics,
                                            const KeyValues& resource, const ScopeInfo& scope,
                                            const PrometheusOptions& options) {
  std::vector<PromFamily> families;
  PromLabels common;
  if (options.include_target_info) {
    // TomodachiPrometheusMeterProvider._get_target_info: the resource, then job/instance.
    std::string name = value_of(resource, "service.name");
    std::string ns = value_of(resource, "service.namespace");
    std::string job = ns.empty() ? name : ns + "/" + name;
    std::string instance = value_of(resource, "service.instance.id");
    PromLabels target;
    for (const auto& [k, v] : resource) set_label(target, sanitize_each(k), v);
    set_label(target, "job", job);
    set_label(target, "instance", instance);
    families.push_back({"target", "Target metadata", "info", "", {{"target_info", target, 1.0}}});
    common.emplace_back("job", job);
    common.emplace_back("instance", instance);
  }
  if (options.include_scope_info && !metrics.empty()) {
    PromLabels scope_labels{{"otel_scope_name", scope.name}, {"otel_scope_version", scope.version}};
    families.push_back({"otel_scope",
                        "Instrumentation Scope metadata",
                        "info",
                        "",
                        {{"otel_scope_info", scope_labels, 1.0}}});
    common.insert(common.end(), scope_labels.begin(), scope_labels.end());
  }
  for (const auto& metric : metrics) {
    PromFamily family = family_of(metric, options, common);
    // Upstream writes one family per label-key set, so a metric whose points differ in
    // their keys (a route-less 404 beside routed requests) repeats HELP/TYPE, which the
    // text format forbids: such families are merged (docs/differences.md).
    auto same = std::find_if(families.begin(), families.end(), [&](const PromFamily& f) {
      return f.name == family.name && f.type == family.type;
    });
    if (same != families.end()) {
      for (auto& sample : family.samples) same->samples.push_back(std::move(sample));
    } else {
      families.push_back(std::move(family));
    }
  }
  return families;
}

std::vector<PromFamily> restrict_families(std::vector<PromFamily> families,
                                          const std::set<std::string>& names) {
  std::vector<PromFamily> out;
  for (auto& family : families) {
    std::vector<PromSample> kept;
    for (auto& sample : family.samples) {
      if (names.count(sample.name) != 0) kept.push_back(std::move(sample));
    }
    if (kept.empty()) continue;
    family.samples = std::move(kept);
    out.push_back(std::move(family));
  }
  return out;
}

std::string render_text(const std::vector<PromFamily>& families) {
  std::string out;
  for (const auto& family : families) {
    std::string name;
    const std::string type = type_in_text(family, name);
    out += "# HELP " + name + " " + escape(family.help, false) + "\n";
    out += "# TYPE " + name + " " + type + "\n";
    for (const auto& sample : family.samples)
      out += sample.name + labels_text(sample.labels) + " " + go_float(sample.value) + "\n";
  }
  return out;
}

std::string render_openmetrics(const std::vector<PromFamily>& families) {
  std::string out;
  for (const auto& family : families) {
    out += "# HELP " + family.name + " " + escape(family.help, true) + "\n";
    out += "# TYPE " + family.name + " " + family.type + "\n";
    if (!family.unit.empty()) out += "# UNIT " + family.name + " " + family.unit + "\n";
    for (const auto& sample : family.samples) {
      out += sample.name + labels_text(sample.labels) + " " + go_float(sample.value);
      if (sample.exemplar && family.type == "histogram") {
        const auto& e = *sample.exemplar;
        PromLabels labels{{"trace_id", hex(e.trace_id.data(), e.trace_id.size())},
                          {"span_id", hex(e.span_id.data(), e.span_id.size())}};
        // exemplar.time_unix_nano / 1e9, printed as Python prints a float
        out += " # " + labels_text(labels) + " " + go_float(e.value) + " " +
               python_float(static_cast<double>(e.time_unix_nano) / 1e9);
      }
      out += "\n";
    }
  }
  return out + "# EOF\n";
}

std::string prometheus_text(const std::vector<MetricData>& metrics, const KeyValues& resource,
                            const ScopeInfo& scope, const PrometheusOptions& options) {
  return render_text(prometheus_families(metrics, resource, scope, options));
}

}  // namespace tomodachi::telemetry
