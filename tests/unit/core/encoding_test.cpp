#include "core/encoding.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

namespace enc = tomodachi::encoding;

TEST(Encoding, Base64RoundTripsAndMatchesPython) {
  EXPECT_EQ(enc::base64_encode("00000001 00000011 robo-boogie"),
            "MDAwMDAwMDEgMDAwMDAwMTEgcm9iby1ib29naWU=");
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
  EXPECT_EQ(enc::sha256_hex("test.topic"),
            "540e8e5bc604e4ea618f7e0517a04f030ad1dcbff2e121e9466ddd1c811450bf");
}

TEST(Encoding, ZlibRoundTripWithPythonHeader) {
  const std::string data(100000, 'x');
  const std::string compressed = enc::zlib_compress(data);
  ASSERT_GE(compressed.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x78);
  EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x9c);
  EXPECT_EQ(enc::zlib_decompress(compressed, 200000).value(), data);
  EXPECT_FALSE(enc::zlib_decompress(compressed, 99999).has_value());
  EXPECT_FALSE(
      enc::zlib_decompress(compressed.substr(0, compressed.size() / 2), 200000).has_value());
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

TEST(Encoding, Sha256KnownVectors) {
  EXPECT_EQ(enc::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(enc::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(enc::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(enc::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Block-boundary lengths.
  EXPECT_EQ(enc::sha256_hex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(enc::sha256_hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Encoding, HmacSha256LongKey) {
  // RFC 4231 test case 6: a 131-byte key is hashed first.
  EXPECT_EQ(
      enc::hex_lower(enc::hmac_sha256(std::string(131, '\xaa'),
                                      "Test Using Larger Than Block-Size Key - Hash Key First")),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(TestHarness, EnvironmentReachesDiscoveredTests) {
  // tests/CMakeLists.txt passes the test environment to every discovered gtest.
  ASSERT_NE(std::getenv("TOMODACHI_FIXTURES_DIR"), nullptr);
  ASSERT_NE(std::getenv("TOMODACHI_BIN"), nullptr);
}
