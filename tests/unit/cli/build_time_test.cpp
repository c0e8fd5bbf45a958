#include "cli/build_time.hpp"

#include <gtest/gtest.h>

using tomodachi::cli::get_time_since_build;

TEST(BuildTime, PhrasesOfUpstream) {
  const std::string build = "2023-08-01T12:00:00.000000Z";
  const auto at = [](const char* now) {
    return get_time_since_build(now, "2023-08-01T12:00:00.000000Z");
  };
  EXPECT_EQ(at("2023-08-01T12:00:40.000000Z"), "released just now");
  EXPECT_EQ(at("2023-08-01T12:01:00.000000Z"), "released 1 minute ago");
  EXPECT_EQ(at("2023-08-01T12:01:25.000000Z"), "released 1 minute ago");
  EXPECT_EQ(at("2023-08-01T12:01:59.000000Z"), "released 1 minute ago");
  EXPECT_EQ(at("2023-08-01T12:02:00.000000Z"), "released 2 minutes ago");
  EXPECT_EQ(at("2023-08-01T12:59:00.000000Z"), "released 59 minutes ago");
  EXPECT_EQ(at("2023-08-01T13:00:00.000000Z"), "released 1 hour ago");
  EXPECT_EQ(at("2023-08-01T13:59:00.000000Z"), "released 1 hour ago");
  EXPECT_EQ(at("2023-08-01T14:00:00.000000Z"), "released 2 hours ago");
  EXPECT_EQ(at("2023-08-02T11:00:00.000000Z"), "released 23 hours ago");
  EXPECT_EQ(at("2023-08-02T12:00:00.000000Z"), "released 1 day ago");
  EXPECT_EQ(at("2023-08-03T11:00:00.000000Z"), "released 1 day ago");
  EXPECT_EQ(at("2023-08-03T12:00:00.000000Z"), "released 2 days ago");
  EXPECT_EQ(at("2023-09-01T12:00:00.000000Z"), "released 31 days ago");
  EXPECT_EQ(at("2023-09-11T12:00:00.000000Z"), "released 41 days ago");
  EXPECT_EQ(at("2023-10-11T12:00:00.000000Z"), "released 71 days ago");
  EXPECT_EQ(at("2023-11-01T12:00:00.000000Z"), "released 3 months ago");
  EXPECT_EQ(at("2024-11-01T12:00:00.000000Z"), "released 15 months ago");
  EXPECT_EQ(at("2025-07-20T12:00:00.000000Z"), "released 23 months ago");
  EXPECT_EQ(at("2025-07-21T12:00:00.000000Z"), "released over 2 years ago");
  EXPECT_EQ(at("2026-07-01T12:00:00.000000Z"), "released over 2 years ago");
  EXPECT_EQ(at("2026-08-01T12:00:00.000000Z"), "released over 3 years ago");
  EXPECT_EQ(get_time_since_build("2025-09-01", build), "");
  EXPECT_EQ(get_time_since_build("2023-08-01T14:00:00.000000+02:00", build), "released just now");
  EXPECT_EQ(get_time_since_build("2023-08-01T12:00:40.000000Z", ""), "");
}
