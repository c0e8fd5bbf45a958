// Test service whose lifecycle behaviour is chosen by TOMODACHI_TEST_MODE:
// exit0, exit1, exit128, start_exception, started_exception, init_exception, wait,
// slow_start (start hook sleeps 4 s), stuck_stop (stop hook never returns), registry,
// background (a spawned endless task), slow_stopping (stopping hook takes 1 s),
// blocking_start (start hook blocks a worker thread for 20 s).
#include <tomodachi/tomodachi.hpp>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace {
std::string mode() {
  const char* value = std::getenv("TOMODACHI_TEST_MODE");
  return value ? value : "wait";
}
}  // namespace

class LifecycleService : public tomodachi::Service {
 public:
  LifecycleService() : Service("test_dummy") {
    if (mode() == "init_exception") throw std::runtime_error("fail in __init__()");
  }

  tomodachi::Task<void> start_service() override {
    log_hook("start_service");
    if (mode() == "start_exception") throw std::runtime_error("fail in _start_service()");
    if (mode() == "slow_start") co_await tomodachi::sleep(4.0);
    if (mode() == "blocking_start") {
      co_await tomodachi::run_blocking(
          [] { std::this_thread::sleep_for(std::chrono::seconds(20)); });
    }
    if (mode() == "background") tomodachi::spawn(forever(), "forever");
    co_return;
  }

  tomodachi::Task<void> started_service() override {
    log_hook("started_service");
    const std::string m = mode();
    if (m == "started_exception") throw std::runtime_error("fail in _started_service()");
    if (m == "exit0") tomodachi::exit();
    if (m == "exit1") tomodachi::exit(1);
    if (m == "exit128") {
      tomodachi::set_service_exit_code(128);
      tomodachi::exit();
    }
    if (m == "registry") {
      const bool by_default = tomodachi::get_service() == this;
      const bool by_name = tomodachi::get_service("test_dummy") == this;
      const bool unknown = tomodachi::get_service("test_dummy_nonexistant") == nullptr;
      logger().info("registry",
                    {{"by_default", by_default},
                     {"by_name", by_name},
                     {"unknown_is_null", unknown},
                     {"uuid", uuid()},
                     {"config_value",
                      config().contains("custom") ? config().at("custom") : boost::json::value()},
                     {"http_port", options.http.port ? *options.http.port : -1}});
      tomodachi::exit();
    }
    co_return;
  }

  tomodachi::Task<void> stopping_service() override {
    log_hook("stopping_service");
    if (mode() == "slow_stopping") {
      co_await tomodachi::sleep(1.0);
      logger().info("stopping hook finished");
    }
    co_return;
  }

  tomodachi::Task<void> stop_service() override {
    log_hook("stop_service");
    if (mode() == "stuck_stop") co_await tomodachi::sleep(3600.0);
    co_return;
  }

 private:
  void log_hook(const char* hook) { logger().info("hook", {{"hook", hook}}); }

  static tomodachi::Task<void> forever() {
    for (;;) co_await tomodachi::sleep(3600.0);
  }
};

TOMODACHI_SERVICE(LifecycleService);
