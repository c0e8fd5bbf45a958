// Two services in one file on the same fixed port (reuse_port): the kernel spreads the
// connections (upstream test_start_2_process_http_0.py).
#include <tomodachi/tomodachi.hpp>

#include <cstdlib>

class ShareA : public tomodachi::Service {
 public:
  ShareA() : Service("share_a") {
    options.http.port =
        std::atoi(std::getenv("HTTP_E2E_PORT") ? std::getenv("HTTP_E2E_PORT") : "53250");
    http<&ShareA::get_uuid>("GET", "/get-uuid");
  }
  tomodachi::Task<std::string> get_uuid(tomodachi::Request&) { co_return uuid(); }

  // upstream's function_order: the hooks of each service run in this order.
  tomodachi::Task<void> start_service() override {
    logger().info("hook called", {{"hook", "start_service"}});
    co_return;
  }
  tomodachi::Task<void> started_service() override {
    logger().info("hook called", {{"hook", "started_service"}});
    co_return;
  }
  tomodachi::Task<void> stop_service() override {
    logger().info("hook called", {{"hook", "stop_service"}});
    co_return;
  }
};

class ShareB : public ShareA {
 public:
  ShareB() { set_name("share_b"); }
};

TOMODACHI_SERVICE(ShareA);
TOMODACHI_SERVICE(ShareB);
