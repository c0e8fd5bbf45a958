#include "telemetry/prometheus_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

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

// Backslash and newline escaped (HELP text); label values escape '"' too.
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

// Python's json.dumps for non-string attribute values (bool -> true/false).
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
          return go_float(v);
        } else {
          std::string out = "[";
          for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", \"" : "\"") + v[i] + "\"";
          return out + "]";
        }
      },
      value);
}

// Python's repr(float): the shortest round-trip form, always with a '.' or exponent.
std::string python_repr(double d) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d);
  std::string s(buffer, end);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

// The le label: f"{bound}" of the boundaries as upstream passes them (ints print as ints:
// its bucket tuple has 0, 1, 5 and 10 as Python ints).
std::string le_text(double bound) {
  if (std::isinf(bound)) return "+Inf";
  if (bound == std::floor(bound) && std::fabs(bound) < 1e15)
    return std::to_string(static_cast<long long>(bound));
  return python_repr(bound);
}

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string labels_text(const Labels& labels) {
  if (labels.empty()) return "";
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

}  // namespace

std::string go_float(double d) {
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (std::isnan(d)) return "NaN";
  std::string s = python_repr(d);
  auto dot = s.find('.');
  if (d > 0 && dot != std::string::npos && dot > 6 && s.find('e') == std::string::npos) {
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

std::string prometheus_text(const std::vector<MetricData>& metrics, const KeyValues& resource,
                            const ScopeInfo& scope, const PrometheusOptions& options) {
  std::string out;
  Labels common;
  if (options.include_target_info) {
    std::string name = value_of(resource, "service.name");
    std::string ns = value_of(resource, "service.namespace");
    std::string job = ns.empty() ? name : ns + "/" + name;
    std::string instance = value_of(resource, "service.instance.id");
    Labels target;
    for (const auto& [k, v] : resource) target.emplace_back(sanitize_each(k), v);
    target.emplace_back("job", job);
    target.emplace_back("instance", instance);
    out += "# HELP target_info Target metadata\n# TYPE target_info gauge\n";
    out += "target_info" + labels_text(target) + " 1.0\n";
    common.emplace_back("job", job);
    common.emplace_back("instance", instance);
  }
  if (options.include_scope_info && !metrics.empty()) {
    Labels scope_labels{{"otel_scope_name", scope.name}, {"otel_scope_version", scope.version}};
    out += "# HELP otel_scope_info Instrumentation Scope metadata\n# TYPE otel_scope_info gauge\n";
    out += "otel_scope_info" + labels_text(scope_labels) + " 1.0\n";
    common.insert(common.end(), scope_labels.begin(), scope_labels.end());
  }
  for (const auto& metric : metrics) {
    const std::string name = prometheus_name(metric.name, metric.unit, options.namespace_prefix);
    const bool histogram = metric.type == MetricData::Type::histogram;
    const bool counter = metric.type == MetricData::Type::sum && metric.monotonic;
    const std::string family = counter ? name + "_total" : name;
    out += "# HELP " + family + " " + escape(metric.description, false) + "\n";
    out += "# TYPE " + family + " " +
           (histogram ? "histogram"
            : counter ? "counter"
                      : "gauge") +
           "\n";
    for (const auto& point : metric.points) {
      Labels labels;
      auto sorted = point.attributes;
      std::sort(sorted.begin(), sorted.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      for (const auto& [k, v] : sorted)
        labels.emplace_back(sanitize_leading_digit(k, false), label_value(v));
      auto with_common = [&](Labels l) {
        l.insert(l.end(), common.begin(), common.end());
        return labels_text(l);
      };
      if (const auto* h = std::get_if<HistogramPoint>(&point.value)) {
        std::uint64_t accumulated = 0;
        for (std::size_t i = 0; i < h->bucket_counts.size(); ++i) {
          accumulated += h->bucket_counts[i];
          Labels l = labels;
          l.emplace_back("le",
                         i < h->explicit_bounds.size() ? le_text(h->explicit_bounds[i]) : "+Inf");
          out += name + "_bucket" + with_common(l) + " " +
                 go_float(static_cast<double>(accumulated)) + "\n";
        }
        out += name + "_count" + with_common(labels) + " " +
               go_float(static_cast<double>(accumulated)) + "\n";
        out += name + "_sum" + with_common(labels) + " " + go_float(h->sum) + "\n";
      } else {
        double v = std::holds_alternative<double>(point.value)
                       ? std::get<double>(point.value)
                       : static_cast<double>(std::get<std::int64_t>(point.value));
        out += family + with_common(labels) + " " + go_float(v) + "\n";
      }
    }
  }
  return out;
}

}  // namespace tomodachi::telemetry
