#pragma once
// Running coroutines in tests, sleeping on virtual time and finding the fauxqs test peer.

#include "core/async.hpp"

#include <tomodachi/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace aws_test {

/// Runs `task` on `io` until it completes and returns its result (rethrows its exception).
template <typename T>
T run(boost::asio::io_context& io, tomodachi::Task<T> task) {
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.restart();
  // Other work (a test server's accept loop) may keep the context busy: run until done.
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (io.run_one() == 0) io.restart();
  }
  return future.get();
}

/// Sleeps on virtual time: `function()` records every delay asked for and returns at once
/// (false when the cancel event is set, as a cut-short sleep). Copies share the record.
class VirtualSleeps {
 public:
  using Duration = std::chrono::steady_clock::duration;

  tomodachi::core::SleepFunction function() const {
    return [delays = delays_](Duration delay, tomodachi::core::Event& cancel) {
      return record(delays, delay, cancel);
    };
  }
  const std::vector<Duration>& delays() const { return *delays_; }

 private:
  static tomodachi::Task<bool> record(std::shared_ptr<std::vector<Duration>> delays, Duration delay,
                                      tomodachi::core::Event& cancel) {
    delays->push_back(delay);
    co_return !cancel.is_set();
  }

  std::shared_ptr<std::vector<Duration>> delays_ = std::make_shared<std::vector<Duration>>();
};

/// KEY=VALUE lines of $TOMODACHI_TEST_PEERS_DIR/fauxqs/env (empty when absent).
inline std::map<std::string, std::string> fauxqs_env() {
  std::map<std::string, std::string> values;
  const char* dir = std::getenv("TOMODACHI_TEST_PEERS_DIR");
  if (dir == nullptr) return values;
  std::ifstream file(std::string(dir) + "/fauxqs/env");
  std::string line;
  while (std::getline(file, line)) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return values;
}

}  // namespace aws_test
