#pragma once
// The runtime's per-service state behind tomodachi::Service (pimpl).

#include <tomodachi/service.hpp>
#include <tomodachi/transport/transport.hpp>

#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tomodachi {
class Publisher;
}

namespace tomodachi::detail {

/// The lifecycle hook running now (for Service::logger()).
struct HookContext {
  std::string handler;  // "start_service", ...
  std::string event;    // "lifecycle.setup", ...
};

struct ServiceState {
  std::string name;
  std::string uuid;
  std::string class_name;
  std::string source_file;  // file of the TOMODACHI_SERVICE registration
  std::vector<std::unique_ptr<HandlerSpec>> handlers;
  boost::json::object config;
  std::optional<HookContext> current_hook;
  /// Where the transports hand this service's publishes instead of a broker (a test seam,
  /// <tomodachi/transport/messaging.hpp>); null: the process's, if any.
  Publisher* publisher = nullptr;
};

}  // namespace tomodachi::detail
