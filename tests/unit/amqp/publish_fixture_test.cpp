// The `publish` cases of amqp_names.json through `amqp_publish` itself: a publisher injected
// into the service (the test seam every transport honours) receives the request, the body is
// built with the fixture's pinned uuid4 and time, and must equal Python tomodachi's bytes.
#include "fixture.hpp"

#include <tomodachi/amqp.hpp>
#include <tomodachi/transport/messaging.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

using amqp_fixture::cases;
using amqp_fixture::str;
namespace json = boost::json;

namespace {

class Publisher : public tomodachi::Service {
 public:
  Publisher(const json::object& identity, bool service_envelope)
      : Service(str(identity.at("name"))) {
    set_uuid(str(identity.at("uuid")));
    if (service_envelope) message_envelope = tomodachi::json_base();
  }
};

struct Captured {
  std::string body;
  std::string topic;
  tomodachi::PublishTransport transport;
};

// Builds the body with the fixture's pinned uuid4 and time, as the transport would.
class Capture final : public tomodachi::Publisher {
 public:
  explicit Capture(tomodachi::BuildContext pinned) : pinned_(std::move(pinned)) {}

  tomodachi::Task<std::string> publish(tomodachi::PublishTransport transport,
                                       tomodachi::PublishRequest request) override {
    captured = Captured{tomodachi::build_payload(request, pinned_), request.topic, transport};
    co_return std::string("captured");
  }

  std::optional<Captured> captured;

 private:
  tomodachi::BuildContext pinned_;
};

}  // namespace

TEST(AmqpPublishFixtures, BodiesAreByteForBytePythonTomodachis) {
  const auto all = cases("publish");
  ASSERT_EQ(all.size(), 9u);
  for (const auto& c : all) {
    const std::string id = str(c.at("id"));
    SCOPED_TRACE(id);
    const auto& input = c.at("input").as_object();
    const auto& expected = c.at("expected").as_object();
    const bool raw = input.at("envelope").is_null();
    const bool service_envelope = id == "publish-service-envelope";
    Publisher service(input.at("service").as_object(), service_envelope);

    tomodachi::BuildContext pinned;
    pinned.uuid4 = str(input.at("pinned_uuid4"));
    pinned.time = input.at("pinned_time").to_number<double>();
    Capture capture(std::move(pinned));
    tomodachi::inject_publisher(service, &capture);  // this service only

    tomodachi::AmqpPublishOptions options;
    if (raw)
      options.message_envelope = tomodachi::no_envelope;
    else if (!service_envelope)
      options.message_envelope = tomodachi::json_base();
    const json::value& data = input.at("data");
    auto payload = tomodachi::PublishData(json::value(data));
    boost::asio::io_context io;
    auto done = boost::asio::co_spawn(
        io,
        tomodachi::amqp_publish(service, std::move(payload), str(input.at("routing_key")), options),
        boost::asio::use_future);
    io.run();
    done.get();
    EXPECT_EQ(tomodachi::process_publisher(), nullptr);  // nothing injected process-wide

    ASSERT_TRUE(capture.captured);
    EXPECT_EQ(capture.captured->body, str(expected.at("body_utf8")));
    EXPECT_EQ(capture.captured->topic, str(input.at("routing_key")));
    EXPECT_EQ(capture.captured->transport, tomodachi::PublishTransport::amqp);
  }
}
