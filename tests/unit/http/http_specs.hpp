#pragma once
// The HTTP registrations of a test service, as the transport's set-up collects them.

#include <tomodachi/http.hpp>

#include <vector>

namespace http_test {

inline std::vector<const tomodachi::detail::HttpSpec*> http_specs(
    const tomodachi::Service& service) {
  std::vector<const tomodachi::detail::HttpSpec*> specs;
  for (const auto& spec : service.handlers()) {
    if (auto* http_spec = dynamic_cast<const tomodachi::detail::HttpSpec*>(spec.get()))
      specs.push_back(http_spec);
  }
  return specs;
}

}  // namespace http_test
