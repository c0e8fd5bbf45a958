#pragma once
// The answers of the health paths: which probe a path names, and its body (JSON, or the
// per-check text of Kubernetes' own endpoints with `?verbose`).

#include "health/registry.hpp"

#include <tomodachi/transport/health.hpp>

#include <optional>
#include <string_view>

namespace tomodachi::health {

inline constexpr std::string_view json_type = "application/json";
inline constexpr std::string_view text_type = "text/plain; charset=utf-8";

/// The probe `path` names under `prefix` (`<prefix>livez`, ...), if any.
std::optional<Probe> match_probe(std::string_view prefix, std::string_view path);

/// True when the raw query string asks for the verbose view (`verbose`, `verbose=1`, ...).
bool verbose_query(std::string_view query);

/// The answer of `probe` from the registry's state now.
HealthAnswer render(Probe probe, bool verbose);

}  // namespace tomodachi::health
