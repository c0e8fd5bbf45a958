#include "telemetry/trace_context.hpp"

#include <vector>

namespace tomodachi::telemetry {
namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' ||
         c == '/';
}

// key = simple-key / multi-tenant-key (tenant@system), spec §3.3.1.3.1.
bool valid_key(std::string_view key) {
  auto at = key.find('@');
  auto simple = [](std::string_view k, std::size_t max) {
    if (k.empty() || k.size() > max) return false;
    if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= '0' && k[0] <= '9'))) return false;
    for (char c : k) {
      if (!key_char(c)) return false;
    }
    return true;
  };
  if (at == std::string_view::npos) {
    return simple(key, 256) && key[0] >= 'a' && key[0] <= 'z';
  }
  std::string_view tenant = key.substr(0, at);
  std::string_view system = key.substr(at + 1);
  return simple(tenant, 241) && simple(system, 14) && system[0] >= 'a' && system[0] <= 'z';
}

bool valid_value(std::string_view value) {
  if (value.empty() || value.size() > 256) return false;
  for (char c : value) {
    if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
  }
  return value.back() != ' ';
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<SpanContext> parse_traceparent(std::string_view value) {
  if (value.size() < 55) return std::nullopt;
  std::string_view version = value.substr(0, 2);
  if (!is_lower_hex(version) || version == "ff") return std::nullopt;
  if (version == "00" && value.size() != 55) return std::nullopt;
  if (version != "00" && value.size() > 55 && value[55] != '-') return std::nullopt;
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  auto trace_id = from_lower_hex<16>(value.substr(3, 32));
  auto span_id = from_lower_hex<8>(value.substr(36, 16));
  auto flags = from_lower_hex<1>(value.substr(53, 2));
  if (!trace_id || !span_id || !flags || is_zero(*trace_id) || is_zero(*span_id))
    return std::nullopt;
  SpanContext context;
  context.trace_id = *trace_id;
  context.span_id = *span_id;
  context.flags = static_cast<std::uint8_t>((*flags)[0] & 0x01);  // only `sampled` is propagated
  context.remote = true;
  return context;
}

std::string format_traceparent(const SpanContext& context) {
  return "00-" + to_hex(context.trace_id) + "-" + to_hex(context.span_id) + "-" +
         to_hex(&context.flags, 1);
}

std::string normalize_tracestate(std::string_view value) {
  std::vector<std::string_view> members;
  std::vector<std::string_view> keys;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    std::string_view member = trim_ows(value.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (!member.empty()) {
      auto eq = member.find('=');
      if (eq == std::string_view::npos) return "";
      std::string_view key = member.substr(0, eq);
      if (!valid_key(key) || !valid_value(member.substr(eq + 1))) return "";
      for (auto k : keys) {
        if (k == key) return "";  // duplicate keys: the header is invalid
      }
      keys.push_back(key);
      members.push_back(member);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (members.size() > 32) return "";
  std::string out;
  for (auto m : members) {
    if (!out.empty()) out += ',';
    out += m;
  }
  return out.size() > 512 ? "" : out;
}

std::optional<SpanContext> extract(std::optional<std::string_view> traceparent,
                                   std::optional<std::string_view> tracestate) {
  if (!traceparent) return std::nullopt;
  auto context = parse_traceparent(trim_ows(*traceparent));
  if (context && tracestate) context->trace_state = normalize_tracestate(*tracestate);
  return context;
}

}  // namespace tomodachi::telemetry
