// The tomodachi side of bench/amqp: one service publishing N JsonBase messages with
// `amqp_publish` (confirms, at most 256 in flight, non-persistent) and consuming them with
// an `amqp` handler (prefetch 100, one ack per message) — the settings of bare_pair.cpp.
//
//   BENCH_MODE=e2e|publish BENCH_COUNT=100000 BENCH_TAG=<unique> amqp_service_bench --production -c
//   cfg.json BENCH_ENVELOPE=raw: the same with the JSON text as a raw payload (no envelope), to
//   show what the envelope costs BENCH_MODE=consume / produce: the two halves in two processes (a
//   publisher service and a consumer service, like the bare pair's two threads); `consume` logs
//   `amqp bench ready` once consuming and `end_time` (epoch seconds) at the last message, `produce`
//   logs `start_time` at its first publish.
//
// Logs `amqp bench` with `seconds`, `rate` and `payload_bytes`, then exits.
#include <tomodachi/tomodachi.hpp>

#include <boost/json.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cstdlib>
#include <string>

namespace {
std::string env(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value ? value : fallback;
}
constexpr int max_in_flight = 256;
}  // namespace

class AmqpBench : public tomodachi::Service {
 public:
  AmqpBench() : Service("amqp-bench") {
    if (!raw_) message_envelope = std::make_shared<tomodachi::JsonBase>();
    if (mode_ == "e2e" || mode_ == "consume") {
      amqp<&AmqpBench::on_message>("bench." + tag_, {.queue_name = "bench-" + tag_});
    }
  }

  tomodachi::Task<void> started_service() override {
    if (mode_ == "consume") {
      logger().info("amqp bench ready");
      co_return;
    }
    start_ = std::chrono::steady_clock::now();
    logger().info("amqp bench start", {{"start_time", epoch_seconds()}});
    for (int worker = 0; worker < max_in_flight; ++worker)
      tomodachi::spawn(publish_share(worker), "publisher");
    co_return;
  }

 private:
  tomodachi::Task<void> publish_share(int worker) {
    const std::string routing_key = "bench." + tag_;
    for (int i = worker; i < count_; i += max_in_flight) {
      const boost::json::object data{{"i", i}, {"text", "tomodachi bench message"}};
      if (raw_) {
        const std::string text = boost::json::serialize(data);
        co_await tomodachi::amqp_publish(*this, text, routing_key);
      } else {
        co_await tomodachi::amqp_publish(*this, data, routing_key);
      }
    }
    if (++publishers_done_ == max_in_flight && (mode_ == "publish" || mode_ == "produce")) report();
  }

  tomodachi::Task<void> on_message(tomodachi::Message& message) {
    if (payload_bytes_ == 0) payload_bytes_ = static_cast<std::int64_t>(message.payload().size());
    if (++received_ == count_) report();
    co_return;
  }

  void report() {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    logger().info("amqp bench", {{"mode", mode_},
                                 {"count", count_},
                                 {"seconds", seconds},
                                 {"rate", count_ / seconds},
                                 {"payload_bytes", payload_bytes_},
                                 {"end_time", epoch_seconds()}});
    tomodachi::exit(0);
  }

  static double epoch_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  const std::string mode_ = env("BENCH_MODE", "e2e");
  const bool raw_ = env("BENCH_ENVELOPE", "json_base") == std::string("raw");
  const std::string tag_ = env("BENCH_TAG", "default");
  const int count_ = std::stoi(env("BENCH_COUNT", "100000"));
  std::chrono::steady_clock::time_point start_;
  int received_ = 0;
  int publishers_done_ = 0;
  std::int64_t payload_bytes_ = 0;
};

TOMODACHI_SERVICE(AmqpBench);
TOMODACHI_MAIN()
