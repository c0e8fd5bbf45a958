// JsonBase envelope cost against a reference measured in the same run: Boost.JSON's own
// serialize/parse of the same envelope-shaped document (what a port without Python
// byte compatibility would do). Also the messaging core's per-message cost on the
// in-memory broker (parse, duplicate check, middleware, handler, settle).
//   build/bin/bench_messaging_envelope
#include <tomodachi/envelope.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/testing.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdio>

namespace {

template <typename F>
double ns_per_op(F&& f, int iterations) {
  for (int i = 0; i < iterations / 10; ++i) f();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) f();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return std::chrono::duration<double, std::nano>(elapsed).count() / iterations;
}

class NoopDelivery final : public tomodachi::Delivery {
 public:
  int attempt() const override { return 1; }
  tomodachi::Task<void> ack() override { co_return; }
  tomodachi::Task<void> requeue() override { co_return; }
  tomodachi::Task<void> retry_later(std::chrono::milliseconds) override { co_return; }
  tomodachi::Task<void> dead_letter(const tomodachi::DeadLetter&) override { co_return; }
};

class BenchService : public tomodachi::Service {
 public:
  BenchService() : Service("bench") { message_envelope = tomodachi::json_base(); }
};

}  // namespace

int main() {
  const boost::json::value data = {
      {"order_id", "A-12345"},
      {"customer", {{"name", "Sven Svensson"}, {"city", "Malm\xc3\xb6"}}},
      {"items",
       {{{"sku", "x-1"}, {"qty", 2}, {"price", 19.95}},
        {{"sku", "y-2"}, {"qty", 1}, {"price", 5.5}}}},
      {"paid", true}};
  const tomodachi::JsonBase envelope;
  tomodachi::BuildContext context;
  context.sender.name = "bench";
  context.sender.uuid = "6d8b4a51-0f1e-4c59-9a55-7e3b3a1d2f00";
  context.topic = "order.created";
  context.uuid4 = "11111111-2222-4333-8444-555555555555";
  context.time = 1712345678.123456;
  const std::string payload = envelope.build(data, context);
  const boost::json::value document = boost::json::parse(payload);

  constexpr int iterations = 200000;
  std::size_t sink = 0;
  const tomodachi::PublishData publish_data(data);  // what a publish call hands over (moved in)
  const double build =
      ns_per_op([&] { sink += envelope.build(publish_data, context).size(); }, iterations);
  const double reference_serialize =
      ns_per_op([&] { sink += boost::json::serialize(document).size(); }, iterations);
  const double parse = ns_per_op(
      [&] { sink += envelope.parse(payload, nullptr).message.as_object().size(); }, iterations);
  const double reference_parse =
      ns_per_op([&] { sink += boost::json::parse(payload).as_object().size(); }, iterations);

  BenchService service;
  tomodachi::testing::Broker broker;
  std::size_t handled = 0;
  broker.subscribe(service, "order.created", "on_order",
                   [&handled](tomodachi::Message& message) -> tomodachi::Task<void> {
                     handled += message.data().as_object().size();
                     co_return;
                   });
  constexpr int messages = 100000;
  // Distinct message uuids (duplicates would be skipped): raw payload variants.
  std::vector<std::string> payloads;
  payloads.reserve(messages);
  for (int i = 0; i < messages; ++i) {
    context.uuid4 = "11111111-2222-4333-8444-" + std::to_string(100000000000 + i);
    payloads.push_back(envelope.build(data, context));
  }
  // The core alone: one dispatcher, messages handed over one after another.
  tomodachi::SubscriptionConfig config;
  config.handler_name = "on_order";
  config.envelope = tomodachi::json_base();
  tomodachi::DuplicateRegistry registry;
  config.duplicates = &registry;
  config.handler = [&handled](tomodachi::Message& message) -> tomodachi::Task<void> {
    handled += message.data().as_object().size();
    co_return;
  };
  const tomodachi::MessageDispatcher dispatcher(config);
  boost::asio::io_context loop;
  const auto core_start = std::chrono::steady_clock::now();
  boost::asio::co_spawn(
      loop,
      [&]() -> tomodachi::Task<void> {
        NoopDelivery delivery;
        for (const auto& p : payloads) {
          tomodachi::IncomingMessage incoming;
          incoming.payload = p;
          incoming.topic = "order.created";
          co_await dispatcher.dispatch(std::move(incoming), delivery);
        }
      },
      boost::asio::detached);
  loop.run();
  const double core =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - core_start)
          .count() /
      messages;

  const auto start = std::chrono::steady_clock::now();
  for (auto& p : payloads) broker.publish_payload("order.created", std::move(p));
  broker.run_until_idle();
  const double dispatch =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      messages;

  std::printf("payload: %zu bytes\n", payload.size());
  std::printf("JsonBase build   %8.0f ns/op   Boost.JSON serialize %8.0f ns/op   ratio %.2f\n",
              build, reference_serialize, build / reference_serialize);
  std::printf("JsonBase parse   %8.0f ns/op   Boost.JSON parse     %8.0f ns/op   ratio %.2f\n",
              parse, reference_parse, parse / reference_parse);
  std::printf("messaging core   %8.0f ns/message (parse, duplicate check, Message, handler, ack)\n",
              core);
  std::printf(
      "in-memory broker %8.0f ns/message end to end (route, parse, duplicate check, handler, ack); "
      "%.0f%% of it is the envelope parse\n",
      dispatch, 100.0 * parse / dispatch);
  std::printf("(checksum %zu %zu, %zu acked)\n", sink, handled, broker.stats().acked);
  return 0;
}
