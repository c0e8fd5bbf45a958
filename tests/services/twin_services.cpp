// Two services with the same name in one file: they are renamed twin-0001, twin-0002
// and start in alphabetical order of their class names; "twin-prod" keeps its name.
#include <tomodachi/tomodachi.hpp>

class TwinB : public tomodachi::Service {
 public:
  TwinB() : Service("twin") {}
  tomodachi::Task<void> started_service() override {
    std::string names;
    for (auto* service : tomodachi::get_services()) names += service->name() + ",";
    logger().info("services", {{"names", names}});
    tomodachi::exit();
    co_return;
  }
};

class TwinA : public tomodachi::Service {
 public:
  TwinA() : Service("twin") {}
  tomodachi::Task<void> start_service() override {
    logger().info("twin a started");
    co_return;
  }
};

// A different name that only looks like a numbered copy: not renamed.
class TwinC : public tomodachi::Service {
 public:
  TwinC() : Service("twin-prod") {}
  tomodachi::Task<void> start_service() override { co_return; }
};

TOMODACHI_SERVICE(TwinB);
TOMODACHI_SERVICE(TwinC);
TOMODACHI_SERVICE(TwinA);
