// A whole service on the in-memory broker through the runtime's lifecycle
// (register_transport → start → started → handler → tomodachi::exit → drained stop).
#include <tomodachi/testing.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <gtest/gtest.h>

#include "core/launcher.hpp"
#include "test_support.hpp"

namespace {

using tomodachi::Message;
using tomodachi::Task;

tomodachi::testing::Broker* broker = nullptr;
std::vector<std::string> events;

class PingService : public tomodachi::Service {
 public:
  PingService() : Service("ping-service") {
    message_envelope = tomodachi::json_base();
    message_middleware.push_back([](Message& message, tomodachi::MiddlewareContext&,
                                    const tomodachi::MessageNext& next) -> Task<void> {
      events.push_back("middleware:" + std::string(message.data().as_string()));
      co_await next();
    });
    auto spec = std::make_unique<tomodachi::MessageHandlerSpec>("memory", "on_ping");
    spec->pattern = "ping.*";
    spec->handler = tomodachi::bind_message_handler<&PingService::on_ping>(*this);
    add_handler(std::move(spec));
  }

  Task<void> started_service() override {
    events.push_back("started_service");
    broker->publish(*this, "hello", "ping.one");
    co_return;
  }

  Task<void> stop_service() override {
    events.push_back("stop_service");
    co_return;
  }

  Task<void> on_ping(Message& message) {
    events.push_back("on_ping:" + std::string(message.data().as_string()) + ":" +
                     message.logger().name());
    tomodachi::exit(0);
    co_return;
  }
};

TEST(BrokerWithRuntime, ServesAServiceThroughItsWholeLifecycle) {
  tomodachi::testing::Broker runtime_broker{tomodachi::testing::Broker::RuntimeLoop{}};
  broker = &runtime_broker;
  events.clear();
  tomodachi::register_transport("memory", runtime_broker.transport_factory());

  tomodachi::detail::Container container;
  container.file_path = "runtime_test.cpp";
  container.classes.push_back(
      {"PingService",
       +[]() -> std::unique_ptr<tomodachi::Service> { return std::make_unique<PingService>(); },
       __FILE__});
  std::vector<tomodachi::detail::Container> containers;
  containers.push_back(std::move(container));
  const tomodachi::detail::LaunchResult result =
      tomodachi::detail::launch(std::move(containers), {});

  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(events,
            (std::vector<std::string>{"started_service", "middleware:hello",
                                      "on_ping:hello:tomodachi.memory.handler", "stop_service"}));
  EXPECT_EQ(runtime_broker.stats().acked, 1u);
  broker = nullptr;
}

}  // namespace
