// Prints its execution context (`execution-context <json>`) and the running services
// (`services <json>`) to stdout once started, then stops.
#include <tomodachi/tomodachi.hpp>

#include <boost/json.hpp>

#include <iostream>

class ContextService : public tomodachi::Service {
 public:
  ContextService() : Service("context") {}

  tomodachi::Task<void> started_service() override {
    boost::json::array names;
    for (auto* service : tomodachi::get_services())
      names.emplace_back(boost::json::string(service->name()));
    std::cout << "execution-context " << tomodachi::json::dumps(tomodachi::get_execution_context())
              << "\n"
              << "services " << tomodachi::json::dumps(names) << std::endl;
    tomodachi::exit();
    co_return;
  }
};

TOMODACHI_SERVICE(ContextService);
