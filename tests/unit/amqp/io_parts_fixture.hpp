#pragma once
// The I/O thread's parts of a connection (src/amqp/io_loop.hpp) without a broker: a
// SharedState whose loop is a test io_context, a Link that is not connected (sends are
// never reached), and the results the parts post to the loop collected by running it.

#include "amqp/link.hpp"
#include "amqp/shared_state.hpp"

#include <boost/asio/io_context.hpp>

#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace amqp_parts {

namespace amqp = tomodachi::amqp_impl;

struct Parts {
  Parts() { shared.io_thread = std::this_thread::get_id(); }

  static amqp::ConnectionSettings settings() {
    amqp::ConnectionSettings s;
    s.host = "broker.test";
    s.port = 5999;
    return s;
  }

  /// Runs what the parts posted to the loop.
  void run_loop() {
    io.restart();
    io.run();
  }

  boost::asio::io_context io;
  amqp::SharedState shared{settings(), io.get_executor()};
  std::vector<std::string> lost;
  amqp::Link link{shared, [this](const std::string& reason) { lost.push_back(reason); }};
};

inline std::string message_of(const std::exception_ptr& error) {
  if (!error) return "(ok)";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace amqp_parts
