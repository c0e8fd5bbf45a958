// libFuzzer target: envelope parsing (JsonBase, ProtobufBase with and without a message
// type) and what a handler does next with the result (Message values, data_as<T>()).
// Built with clang-14 by scripts/fuzz.sh (tests/fuzz/clang); its checked-in corpus is
// replayed by ctest (fuzz.envelope.replay) with the GCC build.
#include <tomodachi/envelope.hpp>
#include <tomodachi/json.hpp>
#include <tomodachi/message.hpp>

#include <google/protobuf/stubs/logging.h>
#include <boost/describe.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string_view>

#include "person.pb.h"

namespace {

struct Order {
  std::string id;
  std::vector<std::int64_t> quantities;
  std::optional<std::uint64_t> count;
  std::optional<std::int32_t> small;
  std::optional<double> total;
};
BOOST_DESCRIBE_STRUCT(Order, (), (id, quantities, count, small, total))

// What a handler would do: read every value, decode typed data.
void use(const tomodachi::Envelope& envelope, std::string_view payload) {
  std::optional<tomodachi::ParsedMessage> parsed;
  try {
    parsed.emplace(envelope.parse(payload, nullptr));  // constructed, as the core does
  } catch (const std::exception&) {
    return;  // rejected with a clear error: fine
  }
  (void)tomodachi::json::dumps(parsed->message);
  tomodachi::IncomingMessage incoming;
  incoming.payload = std::string(payload);
  const tomodachi::Message message(std::move(incoming), std::move(*parsed), {});
  (void)message.get("message_attributes");
  (void)message.message_uuid();
  (void)message.get("data");
  try {
    (void)message.data_as<Order>();
  } catch (const tomodachi::DataError&) {
  }
  try {
    (void)message.data_as<proto::Person>();
  } catch (const tomodachi::DataError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // protobuf logs every invalid UTF-8 string it rejects; the parse error is what matters.
  static const bool quiet =
      (google::protobuf::SetLogHandler(
           [](google::protobuf::LogLevel, const char*, int, const std::string&) {}),
       true);
  (void)quiet;
  static const tomodachi::JsonBase json_base;
  static const tomodachi::ProtobufBase protobuf_bytes;
  static const auto protobuf_person = tomodachi::ProtobufBase::of<proto::Person>();
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  use(json_base, payload);
  use(protobuf_bytes, payload);
  use(*protobuf_person, payload);
  return 0;
}
