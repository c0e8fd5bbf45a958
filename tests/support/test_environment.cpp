// Linked into every gtest binary: sets the test environment (TOMODACHI_FIXTURES_DIR,
// TOMODACHI_TEST_PEERS_DIR, ...) from build/tests/test-environment, found next to the
// binary's build tree, unless the variables are already set. ctest cannot pass a
// list-valued ENVIRONMENT through gtest_discover_tests, and absolute paths in compile
// definitions would defeat the compiler cache of a fresh clone.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

struct TestEnvironment {
  TestEnvironment() {
    std::error_code error;
    const auto executable = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error) return;
    for (auto dir = executable.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
      std::ifstream file(dir / "tests" / "test-environment");
      if (!file) continue;
      std::string line;
      while (std::getline(file, line)) {
        const auto equals = line.find('=');
        if (equals != std::string::npos) {
          ::setenv(line.substr(0, equals).c_str(), line.substr(equals + 1).c_str(), 0);
        }
      }
      return;
    }
  }
};

const TestEnvironment environment;

}  // namespace
