#include "cli/build_progress.hpp"
#include "cli/build_manifest.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;
using tomodachi::cli::BuildManifest;
using tomodachi::cli::change_reason;
using tomodachi::cli::first_compiler_error;
using tomodachi::cli::manifest_file_key;

namespace {
BuildManifest manifest(const std::string& hello, const std::string& util,
                       const std::string& flags = "-O0") {
  return {{manifest_file_key("/src/hello.cpp"), hello},
          {manifest_file_key("/src/include/util.hpp"), util},
          {"the compile flags", flags}};
}
}  // namespace

TEST(BuildReason, NamesWhatChanged) {
  const std::string first = "first build of hello.cpp";
  EXPECT_EQ(change_reason({}, manifest("a", "b"), "/src", first), first);
  EXPECT_EQ(change_reason(manifest("a", "b"), manifest("A", "b"), "/src", first),
            "hello.cpp changed");
  EXPECT_EQ(change_reason(manifest("a", "b"), manifest("A", "B"), "/src", first),
            "hello.cpp, include/util.hpp changed");
  EXPECT_EQ(change_reason(manifest("a", "b"), manifest("a", "b", "-O2"), "/src", first),
            "the compile flags changed");
  EXPECT_EQ(change_reason(manifest("a", "b"), manifest("A", "b", "-O2"), "/src", first),
            "hello.cpp changed; the compile flags changed");
  EXPECT_EQ(change_reason(manifest("a", "b"), manifest("a", "b"), "/src", first),
            "not in the compile cache");

  BuildManifest more = manifest("a", "b");
  more[manifest_file_key("/src/new.hpp")] = "n";
  EXPECT_EQ(change_reason(manifest("a", "b"), more, "/src", first), "new.hpp changed")
      << "a new include counts as a change";
  BuildManifest many;
  for (const char* name : {"a.hpp", "b.hpp", "c.hpp", "d.hpp", "e.hpp"})
    many[manifest_file_key(std::string("/src/") + name)] = "x";
  BuildManifest many_changed = many;
  for (auto& [key, value] : many_changed) value = "y";
  EXPECT_EQ(change_reason(many, many_changed, "/src", first),
            "a.hpp, b.hpp, c.hpp and 2 more changed");
}

TEST(BuildReason, ManifestRoundTrip) {
  const fs::path path =
      fs::path(testing::TempDir()) / ("manifest_" + std::to_string(::getpid()) + ".manifest");
  fs::remove(path);
  EXPECT_TRUE(tomodachi::cli::read_manifest(path).empty());
  const BuildManifest written = manifest("a", "b");
  tomodachi::cli::write_manifest(path, written);
  EXPECT_EQ(tomodachi::cli::read_manifest(path), written);
  fs::remove(path);
}

TEST(CompilerErrors, FirstErrorWithItsExcerpt) {
  const std::string output =
      "/src/hello.cpp: In member function 'tomodachi::Task<tomodachi::Response> Hello::get()':\n"
      "/src/hello.cpp:12:5: error: 'respone' was not declared in this scope\n"
      "   12 |     respone.status = 200;\n"
      "      |     ^~~~~~~\n"
      "/src/hello.cpp:13:5: error: expected ';' before '}' token\n"
      "   13 | }\n";
  EXPECT_EQ(first_compiler_error(output),
            "/src/hello.cpp:12:5: error: 'respone' was not declared in this scope\n"
            "   12 |     respone.status = 200;\n"
            "      |     ^~~~~~~\n");
  EXPECT_EQ(first_compiler_error("/usr/bin/ld: hello.o: in function `f':\n"
                                 "hello.cpp:(.text+0x5): undefined reference to `g()'\n"
                                 "collect2: error: ld returned 1 exit status\n"),
            "hello.cpp:(.text+0x5): undefined reference to `g()'\n");
  EXPECT_EQ(first_compiler_error("cc1plus: warning: something\n"), "");
}

TEST(CompilerErrors, FailurePrintsTheFirstErrorBeforeTheFullOutput) {
  const std::string output = "a.cpp:2:1: error: one\nb.cpp:3:1: error: two\n";
  std::ostringstream out;
  tomodachi::cli::print_compiler_failure(out, "a.cpp", output);
  EXPECT_EQ(
      out.str(),
      "\ncompiling a.cpp failed, the first error:\n\n  a.cpp:2:1: error: one\n\nfull compiler "
      "output:\n" +
          output);
  std::ostringstream plain;
  tomodachi::cli::print_compiler_failure(plain, "a.cpp", "no error lines\n");
  EXPECT_EQ(plain.str(), "no error lines\n");
}
