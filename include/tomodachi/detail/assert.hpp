#pragma once
/// @file
/// `TOMODACHI_ASSERT(condition, message)`: checks an invariant that a comment would
/// otherwise only state ("loop thread only", "1-based", "only when `is_seconds()`").
///
/// Active when `NDEBUG` is not defined (the `debug` and `asan` presets), compiled out
/// when it is (the `dev` preset, release builds): the condition is then not evaluated,
/// so it must have no side effects. `-DTOMODACHI_ASSERTIONS=1` / `=0` forces either way.
/// A failed assertion prints the condition, the message and the place to stderr and
/// aborts: it marks a bug in tomodachi or in code using an API against its contract,
/// never an input error (those throw `tomodachi::Error`).
///
/// Assertions never change a type's layout (no debug-only members in public classes), so
/// a service compiled with them links against a library compiled without, and back.

#include <cstdio>
#include <cstdlib>

#ifndef TOMODACHI_ASSERTIONS
#ifdef NDEBUG
#define TOMODACHI_ASSERTIONS 0
#else
#define TOMODACHI_ASSERTIONS 1
#endif
#endif

namespace tomodachi::detail {

[[noreturn]] inline void assertion_failed(const char* condition, const char* message,
                                          const char* file, int line,
                                          const char* function) noexcept {
  std::fprintf(stderr, "tomodachi: assertion failed: %s (%s)\n  at %s:%d in %s\n", condition,
               message, file, line, function);
  std::fflush(stderr);
  std::abort();
}

}  // namespace tomodachi::detail

#if TOMODACHI_ASSERTIONS
#define TOMODACHI_ASSERT(condition, message)                                            \
  (static_cast<bool>(condition)                                                         \
       ? void(0)                                                                        \
       : ::tomodachi::detail::assertion_failed(#condition, message, __FILE__, __LINE__, \
                                               static_cast<const char*>(__func__)))
#else
// Not evaluated, but still compiled: a condition that stops compiling is noticed in
// release builds too.
#define TOMODACHI_ASSERT(condition, message) (false ? void(static_cast<bool>(condition)) : void(0))
#endif
