// The health paths' answers: 200 when every check of the probe passes, else 503; the body
// names each check (JSON), or lists them as `[+]name ok` / `[-]name failed: reason` with
// `?verbose`, as Kubernetes' own /livez, /readyz and /startupz do.
#include "health/answer.hpp"

#include <boost/json.hpp>

namespace tomodachi::health {

std::optional<Probe> match_probe(std::string_view prefix, std::string_view path) {
  if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view name = path.substr(prefix.size());
  if (name == "livez") return Probe::livez;
  if (name == "readyz") return Probe::readyz;
  if (name == "startupz") return Probe::startupz;
  return std::nullopt;
}

bool verbose_query(std::string_view query) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    const std::string_view key = part.substr(0, part.find('='));
    if (key == "verbose") {
      const auto eq = part.find('=');
      const std::string_view value = eq == std::string_view::npos ? "" : part.substr(eq + 1);
      return value != "0" && value != "false";
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

namespace {

std::string_view probe_name(Probe probe) {
  switch (probe) {
    case Probe::livez:
      return "livez";
    case Probe::readyz:
      return "readyz";
    case Probe::startupz:
      return "startupz";
  }
  return "";
}

std::string verbose_body(Probe probe, const std::vector<CheckResult>& results, bool ok) {
  std::string body;
  for (const auto& result : results) {
    if (result.ok) {
      body += "[+]" + result.name + " ok\n";
    } else {
      body += "[-]" + result.name + " failed: " + result.reason + "\n";
    }
  }
  body += std::string(probe_name(probe)) + (ok ? " check passed\n" : " check failed\n");
  return body;
}

std::string json_body(Probe probe, const std::vector<CheckResult>& results, bool ok) {
  boost::json::array checks;
  for (const auto& result : results) {
    boost::json::object check{{"name", result.name}, {"ok", result.ok}};
    if (!result.ok) check["reason"] = result.reason;
    checks.push_back(std::move(check));
  }
  boost::json::object body{{"probe", probe_name(probe)},
                           {"status", ok ? "ok" : "failed"},
                           {"checks", std::move(checks)}};
  return boost::json::serialize(body) + "\n";
}

}  // namespace

HealthAnswer render(Probe probe, bool verbose) {
  const auto results = Registry::instance().evaluate(probe, Clock::now());
  const bool ok = passed(results);
  HealthAnswer answer;
  answer.status = ok ? 200 : 503;
  answer.content_type = verbose ? text_type : json_type;
  answer.body = verbose ? verbose_body(probe, results, ok) : json_body(probe, results, ok);
  return answer;
}

}  // namespace tomodachi::health

namespace tomodachi {

std::optional<HealthAnswer> health_answer(const Options::Health& health, std::string_view method,
                                          std::string_view path, std::string_view query) {
  if (!health.enabled || health.port || (method != "GET" && method != "HEAD")) return std::nullopt;
  const auto probe = health::match_probe(health.path_prefix, path);
  if (!probe) return std::nullopt;
  return health::render(*probe, health::verbose_query(query));
}

}  // namespace tomodachi
