// TOMODACHI_ASSERT when assertions are on (the debug and asan presets): a false condition
// prints the condition, the message and the place, and aborts.
#define TOMODACHI_ASSERTIONS 1
#include <tomodachi/delivery.hpp>
#include <tomodachi/detail/assert.hpp>
#include <tomodachi/schedule.hpp>

#include <gtest/gtest.h>

namespace {

TEST(Assert, AFalseConditionAbortsNamingItAndTheMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const int attempt = 0;
  EXPECT_DEATH(TOMODACHI_ASSERT(attempt >= 1, "attempts are 1-based"),
               "tomodachi: assertion failed: attempt >= 1 \\(attempts are 1-based\\)");
}

TEST(Assert, ATrueConditionDoesNothing) {
  int evaluated = 0;
  TOMODACHI_ASSERT(++evaluated == 1, "evaluated once");
  EXPECT_EQ(evaluated, 1);
}

TEST(Assert, HeaderInvariantsAreChecked) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const tomodachi::ScheduleInterval text("hourly");
  EXPECT_DEATH((void)text.seconds(), "ScheduleInterval::seconds\\(\\) of a text interval");
  const tomodachi::ScheduleInterval seconds(5);
  EXPECT_DEATH((void)seconds.text(), "ScheduleInterval::text\\(\\) of a seconds interval");
}

// The library's own assertions follow the build: on in the debug and asan presets.
TEST(Assert, TheLibraryChecksItsInvariantsInDebugBuilds) {
#ifdef NDEBUG
  GTEST_SKIP()
      << "assertions are compiled out of this build (NDEBUG): run the debug or asan preset";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH((void)tomodachi::DeliveryPolicy{}.retry_delay(0), "attempts are 1-based");
#endif
}

}  // namespace
