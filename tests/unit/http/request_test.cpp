// tomodachi::Request's aiohttp-style accessors on a request state built by hand (no socket):
// query(), cookies(), text(), json().

#include "http/request_state.hpp"

#include <tomodachi/http.hpp>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include <string>
#include <vector>

namespace {

using tomodachi::Request;
using tomodachi::http_impl::RequestMessage;

/// One request: a message with headers and body, and the state behind `request()`.
class RequestTest : public ::testing::Test {
 protected:
  Request request(std::string_view query = {}) {
    state_.message = &message_;
    state_.query = query;
    return Request(state_);
  }
  RequestMessage message_{boost::beast::http::verb::post, "/", 11};
  tomodachi::detail::RequestState state_;
};

std::vector<std::string> strings(const std::vector<std::string_view>& views) {
  return {views.begin(), views.end()};
}

TEST_F(RequestTest, QueryMapDecodesAndKeepsEveryValue) {
  auto req = request("tag=a+b&tag=c%2Fd&empty=&bare&x%20y=1&&q=%E2%82%AC");
  const tomodachi::QueryMap& query = req.query();
  EXPECT_EQ(query.get("tag"), "a b");
  EXPECT_EQ(strings(query.getall("tag")), (std::vector<std::string>{"a b", "c/d"}));
  EXPECT_EQ(query.get("empty"), "");
  EXPECT_EQ(query.get("bare"), "");
  EXPECT_EQ(query.get("x y"), "1");
  EXPECT_EQ(query.get("q"), "\xE2\x82\xAC");
  EXPECT_EQ(query.get("missing"), std::nullopt);
  EXPECT_TRUE(query.getall("missing").empty());
  EXPECT_EQ(query.size(), 6u);
  EXPECT_EQ(&req.query(), &query);     // parsed once
  EXPECT_EQ(req.query("tag"), "a b");  // query(name) still works
  EXPECT_EQ(req.query("missing"), std::nullopt);
}

TEST_F(RequestTest, QueryMapOfARequestWithoutQueryIsEmpty) {
  EXPECT_TRUE(request().query().empty());
}

TEST_F(RequestTest, CookiesAreParsedAsAiohttpDoes) {
  message_.insert(boost::beast::http::field::cookie, R"(a=1; b="x y";c = 3 ;$Path=/; flag)");
  message_.insert(boost::beast::http::field::cookie, R"(a=2; q="say \"hi\" \101")");
  const auto& cookies = request().cookies();
  EXPECT_EQ(cookies, (std::map<std::string, std::string>{
                         {"a", "2"}, {"b", "x y"}, {"c", "3"}, {"q", R"(say "hi" A)"}}));
}

TEST_F(RequestTest, NoCookieHeaderGivesNoCookies) { EXPECT_TRUE(request().cookies().empty()); }

TEST_F(RequestTest, TextIsUtf8ByDefault) {
  message_.body() = "caf\xC3\xA9";
  EXPECT_EQ(request().text(), "caf\xC3\xA9");
}

TEST_F(RequestTest, TextDecodesLatin1IntoUtf8) {
  message_.set(boost::beast::http::field::content_type, "text/plain; Charset=\"ISO-8859-1\"");
  message_.body() = "caf\xE9 \xFF";
  EXPECT_EQ(request().text(), "caf\xC3\xA9 \xC3\xBF");
}

TEST_F(RequestTest, JsonParsesTheBody) {
  message_.set(boost::beast::http::field::content_type, "application/json");
  message_.body() = R"({"a": [1, "x"]})";
  boost::json::value value = request().json();
  EXPECT_EQ(value, boost::json::parse(R"({"a":[1,"x"]})"));
}

TEST_F(RequestTest, InvalidJsonThrowsHttpError400) {
  message_.body() = "{not json";
  try {
    (void)request().json();
    FAIL() << "no exception";
  } catch (const tomodachi::HttpError& error) {
    EXPECT_EQ(error.status(), 400);
  }
}

TEST_F(RequestTest, ResetForgetsTheCachedQueryAndCookies) {
  message_.insert(boost::beast::http::field::cookie, "a=1");
  auto req = request("x=1");
  ASSERT_EQ(req.query().get("x"), "1");
  ASSERT_EQ(req.cookies().size(), 1u);
  state_.reset();
  RequestMessage other{boost::beast::http::verb::get, "/", 11};
  state_.message = &other;
  state_.query = "y=2";
  EXPECT_EQ(req.query().get("x"), std::nullopt);
  EXPECT_EQ(req.query().get("y"), "2");
  EXPECT_TRUE(req.cookies().empty());
}

// The exact user line of issue 13 item 4: a braced JSON object in `co_return` compiles and
// runs under GCC 12 (docs/services.md, "GCC 12 coroutine traps").
tomodachi::Task<tomodachi::Response> braced_json_reply() {
  co_return tomodachi::Response::json({{"a", 1}});
}

TEST(ResponseJson, BracedObjectInCoReturnCompilesAndRuns) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, braced_json_reply(), boost::asio::use_future);
  io.run();
  tomodachi::Response response = future.get();
  EXPECT_EQ(response.body, R"({"a": 1})");
  EXPECT_EQ(response.content_type.value_or(""), "application/json");
}

}  // namespace
