// OTEL_* environment -> Config (see docs/observability.md for every variable).
#include "telemetry/config.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <memory>
#include <set>

namespace tomodachi::telemetry {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = s.find(sep, start);
    parts.push_back(
        trim(s.substr(start, pos == std::string_view::npos ? s.size() - start : pos - start)));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

[[noreturn]] void fail(std::string_view name, std::string_view value, std::string_view why) {
  throw ConfigError("invalid value for " + std::string(name) + ": '" + std::string(value) + "' (" +
                    std::string(why) + ")");
}

std::optional<std::string> get(const EnvLookup& env, std::string_view name) {
  auto value = env(name);
  if (!value || trim(*value).empty()) return std::nullopt;
  return trim(*value);
}

std::string percent_decode(std::string_view name, std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (s[i] == '%') {
      fail(name, s, "bad percent-encoding");
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// `key=value,key2=value2` (W3C Baggage-like, values percent-decoded), as the SDKs parse
// OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS. Empty items are skipped.
KeyValues parse_key_values(std::string_view name, std::string_view value) {
  KeyValues result;
  for (const auto& item : split(value, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos) fail(name, value, "expected key=value, got '" + item + "'");
    std::string key = trim(std::string_view(item).substr(0, eq));
    if (key.empty()) fail(name, value, "empty key in '" + item + "'");
    std::string decoded = percent_decode(name, trim(std::string_view(item).substr(eq + 1)));
    auto existing =
        std::find_if(result.begin(), result.end(), [&](const auto& kv) { return kv.first == key; });
    if (existing != result.end()) {
      existing->second = std::move(decoded);
    } else {
      result.emplace_back(std::move(key), std::move(decoded));
    }
  }
  return result;
}

std::int64_t parse_int(std::string_view name, const std::string& value, std::int64_t min) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size()) fail(name, value, "not an integer");
  if (n < min) fail(name, value, "must be at least " + std::to_string(min));
  return n;
}

std::chrono::milliseconds millis(const EnvLookup& env, std::string_view name,
                                 std::chrono::milliseconds fallback, std::int64_t min = 0) {
  auto value = get(env, name);
  return value ? std::chrono::milliseconds(parse_int(name, *value, min)) : fallback;
}

ExporterChoice parse_exporters(const EnvLookup& env, std::string_view name) {
  ExporterChoice choice;
  auto value = get(env, name);
  if (!value) return choice;  // upstream's distro default: none
  for (const auto& raw : split(*value, ',')) {
    std::string item = lower(raw);
    if (item == "otlp" || item == "otlp_proto_http") {
      choice.otlp = true;
    } else if (item == "console") {
      choice.console = true;
    } else if (item == "none" || item.empty()) {
    } else if (item == "otlp_proto_grpc") {
      fail(name, *value,
           "gRPC is not supported; use otlp with OTLP/HTTP (http/protobuf, port 4318)");
    } else {
      fail(name, *value, "unknown exporter '" + raw + "'; expected otlp, console or none");
    }
  }
  return choice;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

void check_endpoint(std::string_view name, const std::string& url) {
  if (url.rfind("http://", 0) == 0 && url.size() > 7) return;
  if (url.rfind("https://", 0) == 0) fail(name, url, "https is not supported yet; use http://");
  fail(name, url, "expected an http:// URL");
}

OtlpConfig parse_otlp(const EnvLookup& env, Signal signal) {
  const std::string sig = upper(to_string(signal));
  const std::string per = "OTEL_EXPORTER_OTLP_" + sig + "_";
  const std::string base = "OTEL_EXPORTER_OTLP_";
  auto pick = [&](const std::string& suffix) -> std::pair<std::string, std::optional<std::string>> {
    if (auto v = get(env, per + suffix)) return {per + suffix, v};
    return {base + suffix, get(env, base + suffix)};
  };
  OtlpConfig config;
  if (auto v = get(env, per + "ENDPOINT")) {
    check_endpoint(per + "ENDPOINT", *v);
    config.endpoint = *v;  // used as given
  } else {
    std::string root = get(env, base + "ENDPOINT").value_or("http://localhost:4318");
    check_endpoint(base + "ENDPOINT", root);
    if (root.back() != '/') root += '/';
    config.endpoint = root + "v1/" + std::string(to_string(signal));
  }
  if (auto [name, v] = pick("HEADERS"); v) config.headers = parse_key_values(name, *v);
  if (auto [name, v] = pick("TIMEOUT"); v) {
    // Seconds, as opentelemetry-python 1.27 (upstream's pin) reads it; the spec says ms.
    double seconds = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), seconds);
    if (ec != std::errc() || end != v->data() + v->size() || !(seconds > 0) ||
        !std::isfinite(seconds)) {
      fail(name, *v, "expected a positive number of seconds");
    }
    config.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
  }
  if (auto [name, v] = pick("PROTOCOL"); v) {
    std::string p = lower(*v);
    if (p == "http/protobuf") {
      config.protocol = Protocol::http_protobuf;
    } else if (p == "http/json") {
      config.protocol = Protocol::http_json;
    } else if (p == "grpc") {
      fail(name, *v,
           "gRPC is not supported; use http/protobuf (the default) or http/json with the "
           "collector's OTLP/HTTP port 4318");
    } else {
      fail(name, *v, "expected http/protobuf or http/json");
    }
  }
  if (auto [name, v] = pick("COMPRESSION"); v) {
    std::string c = lower(*v);
    if (c == "gzip") {
      config.gzip = true;
    } else if (c != "none") {
      fail(name, *v, "expected gzip or none");
    }
  }
  return config;
}

SamplerConfig parse_sampler(const EnvLookup& env) {
  SamplerConfig sampler;
  if (auto v = get(env, "OTEL_TRACES_SAMPLER")) {
    static const std::pair<std::string_view, SamplerKind> kinds[] = {
        {"always_on", SamplerKind::always_on},
        {"always_off", SamplerKind::always_off},
        {"traceidratio", SamplerKind::traceidratio},
        {"parentbased_always_on", SamplerKind::parentbased_always_on},
        {"parentbased_always_off", SamplerKind::parentbased_always_off},
        {"parentbased_traceidratio", SamplerKind::parentbased_traceidratio}};
    std::string name = lower(*v);
    auto it =
        std::find_if(std::begin(kinds), std::end(kinds), [&](auto& k) { return k.first == name; });
    if (it == std::end(kinds)) {
      fail("OTEL_TRACES_SAMPLER", *v,
           "expected always_on, always_off, traceidratio, parentbased_always_on, "
           "parentbased_always_off or parentbased_traceidratio");
    }
    sampler.kind = it->second;
  }
  if (auto v = get(env, "OTEL_TRACES_SAMPLER_ARG")) {
    if (sampler.kind == SamplerKind::traceidratio ||
        sampler.kind == SamplerKind::parentbased_traceidratio) {
      double ratio = -1;
      auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ratio);
      if (ec != std::errc() || end != v->data() + v->size() || !(ratio >= 0.0 && ratio <= 1.0)) {
        fail("OTEL_TRACES_SAMPLER_ARG", *v, "expected a probability between 0 and 1");
      }
      sampler.ratio = ratio;
    }
  }
  return sampler;
}

BatchConfig parse_batch(const EnvLookup& env, const std::string& prefix) {
  BatchConfig batch;
  batch.schedule_delay = millis(env, prefix + "SCHEDULE_DELAY", batch.schedule_delay);
  batch.export_timeout = millis(env, prefix + "EXPORT_TIMEOUT", batch.export_timeout);
  if (auto v = get(env, prefix + "MAX_QUEUE_SIZE")) {
    batch.max_queue_size = static_cast<std::size_t>(parse_int(prefix + "MAX_QUEUE_SIZE", *v, 1));
  }
  if (auto v = get(env, prefix + "MAX_EXPORT_BATCH_SIZE")) {
    batch.max_export_batch_size =
        static_cast<std::size_t>(parse_int(prefix + "MAX_EXPORT_BATCH_SIZE", *v, 1));
    if (batch.max_export_batch_size > batch.max_queue_size) {
      fail(prefix + "MAX_EXPORT_BATCH_SIZE", *v,
           "must not exceed " + prefix + "MAX_QUEUE_SIZE (" + std::to_string(batch.max_queue_size) +
               ")");
    }
  }
  return batch;
}

// opentelemetry-util-http's get_excluded_urls(X): OTEL_PYTHON_X_EXCLUDED_URLS, else
// OTEL_PYTHON_EXCLUDED_URLS; comma-separated, each item stripped.
std::vector<std::pair<std::string, std::string>> excluded_urls_of(const EnvLookup& env,
                                                                  const std::string& x) {
  std::string name = "OTEL_PYTHON_" + x + "_EXCLUDED_URLS";
  auto value = get(env, name);
  if (!value) {
    name = "OTEL_PYTHON_EXCLUDED_URLS";
    value = get(env, name);
  }
  std::vector<std::pair<std::string, std::string>> patterns;
  if (!value) return patterns;
  for (auto& item : split(*value, ',')) {
    if (!item.empty()) patterns.emplace_back(name, item);
  }
  return patterns;
}

// Python's `os.environ.get(A) or os.environ.get(B) or ...`: the first variable set to a
// non-empty value, with its name (for the error message).
std::optional<std::pair<std::string, std::string>> first_of(
    const EnvLookup& env, std::initializer_list<std::string_view> names) {
  for (auto name : names) {
    if (auto value = get(env, name)) return std::make_pair(std::string(name), *value);
  }
  return std::nullopt;
}

// Upstream reads these with `.lower().strip() in ("1", "true")`, so every other value is
// false there; we accept 1/true/0/false and refuse the rest, so no value means something
// else here than in a Python service.
bool prometheus_flag(const EnvLookup& env, std::initializer_list<std::string_view> names,
                     bool fallback) {
  auto found = first_of(env, names);
  if (!found) return fallback;
  std::string v = lower(found->second);
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  fail(found->first, found->second, "expected true, false, 1 or 0");
}

// `environ.get(A, environ.get(B, ""))`: A wins when set, even to "".
std::pair<std::string, std::string> python_get(const EnvLookup& env, std::string_view a,
                                               std::string_view b) {
  if (auto v = env(a)) return {std::string(a), trim(*v)};
  return {std::string(b), trim(env(b).value_or(""))};
}

}  // namespace

PrometheusConfig load_prometheus_config(const EnvLookup& env) {
  PrometheusConfig config;
  // distro.py _get_meter_provider: OTEL_PYTHON_METER_PROVIDER, else OTEL_METER_PROVIDER.
  auto [provider_name, provider] =
      python_get(env, "OTEL_PYTHON_METER_PROVIDER", "OTEL_METER_PROVIDER");
  if (provider == "tomodachi_prometheus") {
    config.enabled = config.meter_provider = true;
  } else if (!provider.empty()) {
    fail(provider_name, provider, "meter provider not found; expected tomodachi_prometheus");
  }
  // distro.py _get_metric_readers: a comma list, "none" for none.
  auto [reader_name, readers] = python_get(env, "OTEL_PYTHON_METRIC_READER", "OTEL_METRIC_READER");
  if (!readers.empty() && lower(readers) != "none") {
    for (const auto& reader : split(readers, ',')) {
      if (reader != "tomodachi_prometheus") {
        fail(reader_name, readers,
             "metric reader '" + reader + "' not found; expected tomodachi_prometheus");
      }
      config.enabled = true;
    }
  }
  if (auto host = first_of(
          env,
          {"OTEL_PYTHON_TOMODACHI_PROMETHEUS_ADDRESS",
           "OTEL_TOMODACHI_PROMETHEUS_METER_PROVIDER_ADDRESS", "OTEL_TOMODACHI_PROMETHEUS_ADDRESS",
           "OTEL_PYTHON_EXPORTER_PROMETHEUS_HOST", "OTEL_EXPORTER_PROMETHEUS_HOST"})) {
    config.host = host->second;
  }
  if (auto port = first_of(
          env, {"OTEL_PYTHON_TOMODACHI_PROMETHEUS_PORT",
                "OTEL_TOMODACHI_PROMETHEUS_METER_PROVIDER_PORT", "OTEL_TOMODACHI_PROMETHEUS_PORT",
                "OTEL_PYTHON_EXPORTER_PROMETHEUS_PORT", "OTEL_EXPORTER_PROMETHEUS_PORT"})) {
    auto n = parse_int(port->first, port->second, 0);
    if (n > 65535) fail(port->first, port->second, "not a TCP port (0-65535)");
    config.port = static_cast<std::uint16_t>(n);
  }
  if (auto prefix = first_of(env, {"OTEL_PYTHON_TOMODACHI_PROMETHEUS_NAMESPACE_PREFIX",
                                   "OTEL_TOMODACHI_PROMETHEUS_NAMESPACE_PREFIX",
                                   "OTEL_PYTHON_EXPORTER_PROMETHEUS_NAMESPACE_PREFIX",
                                   "OTEL_EXPORTER_PROMETHEUS_NAMESPACE_PREFIX"})) {
    config.namespace_prefix = prefix->second;
  }
  config.include_scope_info =
      prometheus_flag(env,
                      {"OTEL_PYTHON_TOMODACHI_PROMETHEUS_INCLUDE_SCOPE_INFO",
                       "OTEL_TOMODACHI_PROMETHEUS_INCLUDE_SCOPE_INFO",
                       "OTEL_PYTHON_EXPORTER_PROMETHEUS_INCLUDE_OTEL_SCOPE_INFO",
                       "OTEL_EXPORTER_PROMETHEUS_INCLUDE_OTEL_SCOPE_INFO",
                       "OTEL_PYTHON_EXPORTER_PROMETHEUS_INCLUDE_SCOPE_INFO",
                       "OTEL_EXPORTER_PROMETHEUS_INCLUDE_SCOPE_INFO"},
                      true);
  config.include_target_info =
      prometheus_flag(env,
                      {"OTEL_PYTHON_TOMODACHI_PROMETHEUS_INCLUDE_TARGET_INFO",
                       "OTEL_TOMODACHI_PROMETHEUS_INCLUDE_TARGET_INFO",
                       "OTEL_PYTHON_EXPORTER_PROMETHEUS_INCLUDE_TARGET_INFO",
                       "OTEL_EXPORTER_PROMETHEUS_INCLUDE_TARGET_INFO"},
                      true);
  config.exemplars = prometheus_flag(
      env,
      {"OTEL_PYTHON_TOMODACHI_PROMETHEUS_EXEMPLARS_ENABLED",
       "OTEL_TOMODACHI_PROMETHEUS_EXEMPLARS_ENABLED",
       "OTEL_PYTHON_EXPORTER_PROMETHEUS_EXEMPLARS_ENABLED",
       "OTEL_EXPORTER_PROMETHEUS_EXEMPLARS_ENABLED", "IS_TOMODACHI_PROMETHEUS_EXEMPLARS_ENABLED",
       "TOMODACHI_PROMETHEUS_EXEMPLARS_ENABLED"},
      false);
  return config;
}

std::string_view to_string(Signal signal) noexcept {
  switch (signal) {
    case Signal::traces:
      return "traces";
    case Signal::metrics:
      return "metrics";
    case Signal::logs:
      return "logs";
  }
  return "traces";
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

const OtlpConfig& Config::otlp(Signal signal) const noexcept {
  switch (signal) {
    case Signal::metrics:
      return otlp_metrics;
    case Signal::logs:
      return otlp_logs;
    default:
      return otlp_traces;
  }
}

Config load_config(const EnvLookup& env) {
  Config config;
  config.service_name = get(env, "OTEL_SERVICE_NAME");
  if (auto v = get(env, "OTEL_RESOURCE_ATTRIBUTES")) {
    config.resource_attributes = parse_key_values("OTEL_RESOURCE_ATTRIBUTES", *v);
  }
  config.traces = parse_exporters(env, "OTEL_TRACES_EXPORTER");
  config.prometheus = load_prometheus_config(env);
  // Upstream's tomodachi_prometheus meter provider replaces the SDK's, whose readers come
  // from OTEL_METRICS_EXPORTER: with it that variable is not read (the metric reader adds
  // to it instead).
  if (!config.prometheus.meter_provider)
    config.metrics = parse_exporters(env, "OTEL_METRICS_EXPORTER");
  config.logs = parse_exporters(env, "OTEL_LOGS_EXPORTER");
  // Endpoints and protocols are read (and checked) only for signals exported over OTLP.
  if (config.traces.otlp) config.otlp_traces = parse_otlp(env, Signal::traces);
  if (config.metrics.otlp) config.otlp_metrics = parse_otlp(env, Signal::metrics);
  if (config.logs.otlp) config.otlp_logs = parse_otlp(env, Signal::logs);
  config.sampler = parse_sampler(env);
  config.span_batch = parse_batch(env, "OTEL_BSP_");
  config.log_batch = parse_batch(env, "OTEL_BLRP_");
  config.metric_export_interval =
      millis(env, "OTEL_METRIC_EXPORT_INTERVAL", config.metric_export_interval, 1);
  config.metric_export_timeout =
      millis(env, "OTEL_METRIC_EXPORT_TIMEOUT", config.metric_export_timeout);
  std::set<std::string> seen;
  auto all = excluded_urls_of(env, "TOMODACHI");
  auto aiohttp = excluded_urls_of(env, "AIOHTTP");
  all.insert(all.end(), aiohttp.begin(), aiohttp.end());
  for (auto& [name, pattern] : all) {
    re2::RE2 check(pattern, re2::RE2::Quiet);
    if (!check.ok()) fail(name, pattern, "not a valid regular expression: " + check.error());
    if (seen.insert(pattern).second) config.excluded_urls.push_back(pattern);
  }
  return config;
}

bool instrument_requested(const EnvLookup& env) {
  auto value = env("TOMODACHI_OPENTELEMETRY_INSTRUMENT");
  if (!value) return false;
  std::string v = lower(*value);  // no trimming, as upstream's CLI
  return !(v.empty() || v == "0" || v == "no" || v == "none" || v == "false");
}

KeyValues build_resource(const Config& config, std::string_view service_name,
                         std::string_view service_uuid, bool for_metrics) {
  KeyValues attributes = config.resource_attributes;
  auto find = [&](std::string_view key) {
    return std::find_if(attributes.begin(), attributes.end(),
                        [&](auto& kv) { return kv.first == key; });
  };
  auto set = [&](std::string key, std::string value) {
    if (auto it = find(key); it != attributes.end()) {
      it->second = std::move(value);
    } else {
      attributes.emplace_back(std::move(key), std::move(value));
    }
  };
  if (config.service_name) set("service.name", *config.service_name);
  const bool generic = service_name == "service" || service_name == "app";
  auto name = find("service.name");
  bool unnamed = name == attributes.end() || name->second.empty() ||
                 name->second.rfind("unknown_service", 0) == 0;
  if (unnamed)
    set("service.name",
        generic || service_name.empty() ? "unknown_service" : std::string(service_name));
  auto instance = find("service.instance.id");
  if ((instance == attributes.end() || instance->second.empty()) && !service_uuid.empty() &&
      (for_metrics || !generic)) {
    set("service.instance.id", std::string(service_uuid));
  }
  set("telemetry.sdk.language", "cpp");
  set("telemetry.sdk.name", "tomodachi");
  return attributes;
}

struct UrlExcluder::Impl {
  std::unique_ptr<re2::RE2> regex;
};

UrlExcluder::UrlExcluder(const std::vector<std::string>& patterns) {
  if (patterns.empty()) return;
  std::string joined;
  for (const auto& p : patterns) joined += (joined.empty() ? "" : "|") + ("(?:" + p + ")");
  impl_ = new Impl{std::make_unique<re2::RE2>(joined, re2::RE2::Quiet)};
}
UrlExcluder::~UrlExcluder() { delete impl_; }
UrlExcluder::UrlExcluder(UrlExcluder&& other) noexcept
    : impl_(std::exchange(other.impl_, nullptr)) {}
UrlExcluder& UrlExcluder::operator=(UrlExcluder&& other) noexcept {
  std::swap(impl_, other.impl_);
  return *this;
}
bool UrlExcluder::excluded(std::string_view path) const {
  return impl_ != nullptr && re2::RE2::PartialMatch(path, *impl_->regex);
}

}  // namespace tomodachi::telemetry
