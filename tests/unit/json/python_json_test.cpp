#include <tomodachi/error.hpp>
#include <tomodachi/json.hpp>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>

namespace {

using tomodachi::json::dumps;
using tomodachi::json::float_repr;
using tomodachi::json::loads;

TEST(FloatRepr, MatchesPythonRepr) {
  EXPECT_EQ(float_repr(1.5), "1.5");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(float_repr(1e-5), "1e-05");
  EXPECT_EQ(float_repr(0.0001), "0.0001");
  EXPECT_EQ(float_repr(1712345678.123456), "1712345678.123456");
  EXPECT_EQ(float_repr(1.673382441141209e9), "1673382441.141209");
  EXPECT_EQ(float_repr(-0.0), "-0.0");
  EXPECT_EQ(float_repr(0.0), "0.0");
  EXPECT_EQ(float_repr(0.1), "0.1");
  EXPECT_EQ(float_repr(1e22), "1e+22");
  EXPECT_EQ(float_repr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(float_repr(5e-324), "5e-324");
  EXPECT_EQ(float_repr(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(float_repr(100.0), "100.0");
  EXPECT_EQ(float_repr(-12345.678), "-12345.678");
  EXPECT_EQ(float_repr(1e100), "1e+100");
  EXPECT_EQ(float_repr(2.5e-7), "2.5e-07");
  EXPECT_EQ(float_repr(9999999999999998.0), "9999999999999998.0");
  EXPECT_EQ(float_repr(std::numeric_limits<double>::infinity()), "inf");
}

TEST(Dumps, UsesPythonSeparatorsAndKeyOrder) {
  boost::json::value v =
      boost::json::parse(R"({"z": [1, null, true, false], "a": {"n": 1.0, "s": ""}})");
  EXPECT_EQ(dumps(v), R"({"z": [1, null, true, false], "a": {"n": 1.0, "s": ""}})");
  EXPECT_EQ(dumps(boost::json::array{}), "[]");
  EXPECT_EQ(dumps(boost::json::object{}), "{}");
}

TEST(Dumps, EscapesLikeEnsureAscii) {
  EXPECT_EQ(dumps(boost::json::string("v\xc3\xa4rde")), R"("v\u00e4rde")");
  EXPECT_EQ(dumps(boost::json::string("\x7f")), R"("\u007f")");
  EXPECT_EQ(dumps(boost::json::string("\x01\n\r\t\b\f\"\\/")), R"("\u0001\n\r\t\b\f\"\\/")");
  EXPECT_EQ(dumps(boost::json::string("emoji\xf0\x9f\x98\x80")), R"("emoji\ud83d\ude00")");
  EXPECT_EQ(dumps(boost::json::string("\xe2\x80\xa8")), R"("\u2028")");
  EXPECT_EQ(dumps(boost::json::string("\xe5\x8f\x8b\xe9\x81\x94")), R"("\u53cb\u9054")");
  EXPECT_EQ(dumps(boost::json::string("bad\xff")), R"("bad\ufffd")");
}

TEST(Dumps, WritesNumbersLikePython) {
  EXPECT_EQ(dumps(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(dumps(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(dumps(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(dumps(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(dumps(1e16), "1e+16");
  EXPECT_EQ(dumps(1712345678.123456), "1712345678.123456");
}

TEST(Loads, AcceptsPythonExtensions) {
  auto v = loads(R"({"a": NaN, "b": Infinity, "c": -Infinity, "d": [1.5, "x"]})");
  EXPECT_TRUE(std::isnan(v.at("a").as_double()));
  EXPECT_EQ(v.at("b").as_double(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(v.at("c").as_double(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(dumps(v), R"({"a": NaN, "b": Infinity, "c": -Infinity, "d": [1.5, "x"]})");
}

TEST(Loads, MapsLoneSurrogatesToReplacementCharacter) {
  auto v = loads(R"(["\ud800", "\ud83d\ude00"])");
  EXPECT_EQ(v.as_array()[0].as_string(), "\xef\xbf\xbd");
  EXPECT_EQ(v.as_array()[1].as_string(), "\xf0\x9f\x98\x80");
}

TEST(Loads, RejectsInvalidInput) {
  std::error_code error;
  loads("{", error);
  EXPECT_TRUE(error);
  loads("[1,]", error);
  EXPECT_TRUE(error);
  loads("nan", error);
  EXPECT_TRUE(error);
  loads("\"\x01\"", error);
  EXPECT_TRUE(error);
  loads("\"\xff\"", error);
  EXPECT_TRUE(error);
  EXPECT_THROW(loads("[1] 2"), tomodachi::ArgumentError);
  loads(std::string(600, '[') + std::string(600, ']'), error);
  EXPECT_TRUE(error);
}

TEST(Loads, KeepsIntegerKinds) {
  auto v = loads(R"([1, -1, 18446744073709551615, 1.0, 1e2, 100000000000000000000000000000])");
  const auto& a = v.as_array();
  EXPECT_TRUE(a[0].is_int64());
  EXPECT_TRUE(a[1].is_int64());
  EXPECT_TRUE(a[2].is_uint64());
  EXPECT_TRUE(a[3].is_double());
  EXPECT_TRUE(a[4].is_double());
  EXPECT_TRUE(tomodachi::json::is_big_int(a[5]));
  EXPECT_EQ(tomodachi::json::big_int_digits(a[5]), "100000000000000000000000000000");
}

TEST(BigInt, IntegersBeyondSixtyFourBitsPassThroughExactly) {
  // Python ints are unbounded; json.dumps writes their digits.
  const std::string text =
      R"({"2^64": 18446744073709551616, "-2^63-1": -9223372036854775809, "10^30": 1000000000000000000000000000000, "f": 1e+30})";
  EXPECT_EQ(dumps(loads(text)), text);
  EXPECT_EQ(tomodachi::json::python_repr(loads("[18446744073709551616]")),
            "[18446744073709551616]");
  // The NaN/Infinity-tolerant path keeps them too.
  EXPECT_EQ(dumps(loads("[NaN, 18446744073709551616]")), "[NaN, 18446744073709551616]");
}

TEST(BigInt, MadeFromDigits) {
  EXPECT_EQ(dumps(tomodachi::json::big_int("18446744073709551616")), "18446744073709551616");
  EXPECT_EQ(dumps(tomodachi::json::big_int("-18446744073709551616")), "-18446744073709551616");
  EXPECT_TRUE(tomodachi::json::big_int("42").is_int64());
  EXPECT_TRUE(tomodachi::json::big_int("18446744073709551615").is_uint64());
  EXPECT_THROW(tomodachi::json::big_int("1e30"), tomodachi::ArgumentError);
  EXPECT_THROW(tomodachi::json::big_int("007"), tomodachi::ArgumentError);
  EXPECT_THROW(tomodachi::json::big_int(""), tomodachi::ArgumentError);
  EXPECT_FALSE(tomodachi::json::is_big_int(loads(R"({"digits": "1"})")));
}

TEST(PythonRepr, PrintsLikePython) {
  auto v = loads(R"({"value": "test", "n": 1, "ok": true, "none": null, "l": ["it's", 1.5]})");
  EXPECT_EQ(tomodachi::json::python_repr(v),
            R"({'value': 'test', 'n': 1, 'ok': True, 'none': None, 'l': ["it's", 1.5]})");
}

}  // namespace

TEST(Loads, DoublesAreCorrectlyRounded) {
  // Boost.JSON 1.81 converts about one literal in six one ulp off; Python floats must
  // survive dumps → loads exactly.
  EXPECT_EQ(dumps(loads("1.1805916207174113e+21")), "1.1805916207174113e+21");
  std::uint64_t state = 88172645463325252ull;
  for (int i = 0; i < 100000; ++i) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    double d;
    std::memcpy(&d, &state, sizeof d);
    if (!std::isfinite(d)) continue;
    ASSERT_EQ(loads(dumps(d)).as_double(), d) << dumps(d);
  }
  EXPECT_EQ(loads("1e400").as_double(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(loads("-1e-400").as_double(), -0.0);
  EXPECT_TRUE(std::signbit(loads("-1e-400").as_double()));
}
