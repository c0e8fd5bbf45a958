#include "core/encoding.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace enc = tomodachi::encoding;

TEST(Encoding, Base64RoundTripsAndMatchesPython) {
  EXPECT_EQ(enc::base64_encode("00000001 00000011 robo-boogie"), "MDAwMDAwMDEgMDAwMDAwMTEgcm9iby1ib29naWU=");
  EXPECT_EQ(enc::base64_encode(""), "");
  EXPECT_EQ(enc::base64_encode("a"), "YQ==");
  EXPECT_EQ(enc::base64_encode("ab"), "YWI=");
  EXPECT_EQ(enc::base64_decode("YWI=").value(), "ab");
  EXPECT_EQ(enc::base64_decode("YW\nI=").value(), "ab");
  EXPECT_FALSE(enc::base64_decode("YWI").has_value());
  EXPECT_FALSE(enc::base64_decode("Y").has_value());
}

TEST(Encoding, Sha256HexOfRoutingKey) {
  // spec/wire.md §2.4: competing queue for routing key "test.topic".
  EXPECT_EQ(enc::sha256_hex("test.topic"), "540e8e5bc604e4ea618f7e0517a04f030ad1dcbff2e121e9466ddd1c811450bf");
}

TEST(Encoding, ZlibRoundTripWithPythonHeader) {
  const std::string data(100000, 'x');
  const std::string compressed = enc::zlib_compress(data);
  ASSERT_GE(compressed.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x78);
  EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x9c);
  EXPECT_EQ(enc::zlib_decompress(compressed, 200000).value(), data);
  EXPECT_FALSE(enc::zlib_decompress(compressed, 99999).has_value());
  EXPECT_FALSE(enc::zlib_decompress(compressed.substr(0, compressed.size() / 2), 200000).has_value());
  EXPECT_FALSE(enc::zlib_decompress("not zlib", 200000).has_value());
}

TEST(Encoding, Uuid4IsCanonicalVersion4) {
  const std::regex pattern("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(std::regex_match(enc::uuid4(), pattern));
  EXPECT_NE(enc::uuid4(), enc::uuid4());
}

TEST(Encoding, HmacSha256KnownVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(enc::hex_lower(enc::hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}
