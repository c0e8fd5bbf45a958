#include "http/router.hpp"

#include <tomodachi/error.hpp>

#include <gtest/gtest.h>

using tomodachi::http_impl::Router;
using tomodachi::http_impl::strip_route_anchors;

TEST(HttpRouter, StripsOneLeadingCaretAndOneTrailingDollar) {
  EXPECT_EQ(strip_route_anchors("^/health$"), "/health");
  EXPECT_EQ(strip_route_anchors("/health/?"), "/health/?");
  EXPECT_EQ(strip_route_anchors("^^/x$$"), "^/x$");
}

TEST(HttpRouter, WholePathMustMatchAndNamedGroupsAreReported) {
  Router router;
  router.add({"GET"}, R"(/resource/(?P<id>[^/]+?)/?)", 0);
  Router::Match match;
  router.resolve("GET", "/resource/4711", match);
  ASSERT_EQ(match.outcome, Router::Outcome::found);
  int id = router.group_index(0, "id");
  ASSERT_GE(id, 0);
  EXPECT_EQ(match.groups[static_cast<std::size_t>(id)], "4711");
  router.resolve("GET", "/resource/4711/", match);
  EXPECT_EQ(match.outcome, Router::Outcome::found);
  EXPECT_EQ(match.groups[static_cast<std::size_t>(id)], "4711");
  router.resolve("GET", "/resource/4711/extra", match);
  EXPECT_EQ(match.outcome, Router::Outcome::not_found);
  router.resolve("GET", "/prefix/resource/4711", match);
  EXPECT_EQ(match.outcome, Router::Outcome::not_found);
  EXPECT_EQ(router.group_index(0, "missing"), -1);
}

TEST(HttpRouter, TrailingSlashIsSignificant) {
  Router router;
  router.add({"GET"}, "/health", 0);
  Router::Match match;
  router.resolve("GET", "/health/", match);
  EXPECT_EQ(match.outcome, Router::Outcome::not_found);
}

TEST(HttpRouter, GetAnswersHeadAndOtherMethodsGet405WithAllow) {
  Router router;
  router.add({"GET"}, "/test", 0);
  router.add({"put", "DELETE"}, "/test", 1);
  Router::Match match;
  router.resolve("HEAD", "/test", match);
  EXPECT_EQ(match.outcome, Router::Outcome::found);
  EXPECT_EQ(match.route, 0u);
  router.resolve("PUT", "/test", match);
  EXPECT_EQ(match.outcome, Router::Outcome::found);
  EXPECT_EQ(match.route, 1u);
  router.resolve("POST", "/test", match);
  EXPECT_EQ(match.outcome, Router::Outcome::method_not_allowed);
  EXPECT_EQ(match.allow, "DELETE,GET,HEAD,PUT");
  router.resolve("POST", "/other", match);
  EXPECT_EQ(match.outcome, Router::Outcome::not_found);
}

TEST(HttpRouter, FirstRegisteredMatchingRouteWins) {
  Router router;
  router.add({"GET"}, "/x/(?P<value1>[^/]+)/?", 0);
  router.add({"GET"}, "/(?P<any>.*)", 1);
  Router::Match match;
  router.resolve("GET", "/x/4711", match);
  EXPECT_EQ(match.route, 0u);
  router.resolve("GET", "/y", match);
  EXPECT_EQ(match.route, 1u);
}

TEST(HttpRouter, NonParticipatingGroupsAreNull) {
  Router router;
  router.add({"GET"}, "/a(?P<x>b)?(?P<y>c)?", 0);
  Router::Match match;
  router.resolve("GET", "/ac", match);
  ASSERT_EQ(match.outcome, Router::Outcome::found);
  EXPECT_EQ(match.groups[static_cast<std::size_t>(router.group_index(0, "x"))].data(), nullptr);
  EXPECT_EQ(match.groups[static_cast<std::size_t>(router.group_index(0, "y"))], "c");
}

TEST(HttpRouter, InvalidPatternNamesThePattern) {
  Router router;
  try {
    router.add({"GET"}, "/broken/(?P<id>[", 0);
    FAIL() << "expected an exception";
  } catch (const tomodachi::ArgumentError& error) {
    EXPECT_NE(std::string(error.what()).find("Bad http route pattern '/broken/(?P<id>['"),
              std::string::npos)
        << error.what();
  }
  EXPECT_THROW(router.add({"GET"}, "/(?=lookahead)", 0), tomodachi::ArgumentError);
}

TEST(HttpRouter, ManyGroupsBeyondTheStackBuffer) {
  Router router;
  std::string pattern;
  std::string path;
  for (int i = 0; i < 20; ++i) {
    pattern += "/(?P<g" + std::to_string(i) + ">[0-9]+)";
    path += "/" + std::to_string(i);
  }
  router.add({"GET"}, pattern, 0);
  Router::Match match;
  router.resolve("GET", path, match);
  ASSERT_EQ(match.outcome, Router::Outcome::found);
  EXPECT_EQ(match.groups[static_cast<std::size_t>(router.group_index(0, "g19"))], "19");
}
