// Bounds on what one received message may cost: decompressed size, and the memory the
// decompressed JSON takes once parsed.
#include <tomodachi/envelope.hpp>
#include <tomodachi/message.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/storage_ptr.hpp>

#include "core/encoding.hpp"

#include <string>

namespace {

using ::testing::HasSubstr;

// A JsonBase payload whose data is `data_json`, zlib-compressed as `base64_gzip_json`.
std::string compressed_payload(const std::string& data_json) {
  const std::string data =
      tomodachi::encoding::base64_encode(tomodachi::encoding::zlib_compress(data_json));
  return R"({"service": {"name": "s", "uuid": "u"}, "metadata": {"message_uuid": "u.1", "data_encoding": "base64_gzip_json"}, "data": ")" +
         data + R"("})";
}

// `[[0],[0],...]`: 4 bytes of text, ten times that parsed.
std::string nested_arrays(std::size_t count) {
  std::string text = "[";
  for (std::size_t i = 0; i < count; ++i) text += i == 0 ? "[0]" : ",[0]";
  return text + "]";
}

std::string error_of(const tomodachi::Envelope& envelope, const std::string& payload) {
  try {
    (void)envelope.parse(payload, nullptr);
  } catch (const tomodachi::EnvelopeError& e) {
    return e.what();
  }
  return "(parsed)";
}

TEST(EnvelopeLimits, DecompressedDataIsBoundedTo16MiBByDefault) {
  EXPECT_EQ(tomodachi::default_max_decompressed_size, std::size_t{16} << 20);
  const std::string over = "\"" + std::string((std::size_t{16} << 20) + 1, 'a') + "\"";
  EXPECT_THAT(error_of(tomodachi::JsonBase(), compressed_payload(over)),
              HasSubstr("inflates beyond the limit of 16777216 bytes"));
  const std::string under = "\"" + std::string((std::size_t{16} << 20) - 2, 'a') + "\"";
  EXPECT_EQ(tomodachi::JsonBase()
                .parse(compressed_payload(under), nullptr)
                .message.at("data")
                .as_string()
                .size(),
            under.size() - 2);
}

TEST(EnvelopeLimits, DecompressedJsonIsParsedWithinABudget) {
  const std::string payload = compressed_payload(nested_arrays(100000));  // 400 KB of text
  const tomodachi::JsonBase tight(tomodachi::default_max_decompressed_size, std::size_t{1} << 20);
  EXPECT_THAT(
      error_of(tight, payload),
      HasSubstr(
          "JsonBase: base64_gzip_json data needs more than 1048576 bytes of memory when parsed"));
  EXPECT_EQ(tomodachi::JsonBase().parse(payload, nullptr).message.at("data").as_array().size(),
            100000u);
}

TEST(EnvelopeLimits, ADecompressionBombOfSmallValuesIsRejectedByDefault) {
  // 16 MB of `[0]` arrays would take about 200 MB parsed; the default budget is 64 MiB.
  const std::string payload = compressed_payload(nested_arrays((std::size_t{16} << 20) / 4 - 1));
  EXPECT_THAT(error_of(tomodachi::JsonBase(), payload), HasSubstr("bytes of memory when parsed"));
}

TEST(EnvelopeLimits, ParsedDecompressedDataIsNeverCopiedAndStaysUsable) {
  const std::string payload =
      compressed_payload(R"({"items": [1, 2.5, "three", null, {"k": [true]}]})");
  tomodachi::IncomingMessage incoming;
  incoming.payload = payload;
  // A budget far below what the copies below take: it applies to the parse only.
  tomodachi::ParsedMessage parsed =
      tomodachi::JsonBase(tomodachi::default_max_decompressed_size, 8192).parse(payload, nullptr);
  const boost::json::storage_ptr data_storage = parsed.message.at("data").storage();
  EXPECT_NE(data_storage.get(), boost::json::storage_ptr().get());  // its own resource
  EXPECT_EQ(parsed.message.storage().get(), data_storage.get());    // the envelope was built on it

  const tomodachi::Message message(std::move(incoming), std::move(parsed), {});
  EXPECT_EQ(message.data().storage().get(),
            data_storage.get());             // moved, not copied, into the Message
  boost::json::value copy = message.data();  // copies are not budgeted
  for (int i = 0; i < 1000; ++i)
    copy.as_object()["items"].as_array().push_back(boost::json::string(1000, 'x'));
  EXPECT_EQ(message.data().at("items").as_array().size(), 5u);
  EXPECT_EQ(message.data().at("items").at(2), "three");
}

}  // namespace
