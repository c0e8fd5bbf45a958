// TOMODACHI_ASSERT when assertions are off (the dev preset, release builds): the condition
// is not evaluated, and a false one does not abort.
#define TOMODACHI_ASSERTIONS 0
#include <tomodachi/detail/assert.hpp>

#include <gtest/gtest.h>

namespace {

TEST(Assert, CompiledOutConditionsAreNotEvaluated) {
  int evaluated = 0;
  TOMODACHI_ASSERT(++evaluated == 1, "not evaluated");
  TOMODACHI_ASSERT(false, "does not abort");
  EXPECT_EQ(evaluated, 0);
}

}  // namespace
