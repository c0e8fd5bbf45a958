// The hand-over of commands from the service loop to a connection's I/O thread.
#include "amqp/command_queue.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <thread>
#include <variant>

namespace amqp = tomodachi::amqp_impl;

namespace {

amqp::AckCommand ack(std::uint64_t tag) { return amqp::AckCommand{1, tag, true, false}; }

std::vector<std::uint64_t> tags(const std::vector<amqp::Command>& commands) {
  std::vector<std::uint64_t> out;
  for (const auto& command : commands)
    out.push_back(std::get<amqp::AckCommand>(command).delivery_tag);
  return out;
}

}  // namespace

TEST(CommandQueue, TheCommandsOfOneLoopTurnAreHandedOverTogetherAfterIt) {
  boost::asio::io_context io;
  auto queue = std::make_shared<amqp::CommandQueue>(io.get_executor());
  std::vector<std::uint64_t> seen_during_turn;
  boost::asio::post(io, [&] {
    queue->push_from_loop(ack(1));
    queue->push_from_loop(ack(2));
    queue->push_from_loop(ack(3));
    seen_during_turn = tags(queue->take());  // nothing handed over within the turn
  });
  io.run();
  EXPECT_TRUE(seen_during_turn.empty());
  EXPECT_TRUE(queue->handed_over());
  EXPECT_EQ(tags(queue->take()), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_TRUE(queue->take().empty());
}

TEST(CommandQueue, AWaitingIOThreadWakesUpForHandedOverCommands) {
  boost::asio::io_context io;
  auto queue = std::make_shared<amqp::CommandQueue>(io.get_executor());
  EXPECT_FALSE(queue->handed_over());
  std::vector<std::uint64_t> received;
  std::thread io_thread([&] {
    while (received.size() < 2) {
      queue->wait(-1, -1);  // no socket, no timeout: only a command ends the wait
      for (auto tag : tags(queue->take())) received.push_back(tag);
    }
  });
  boost::asio::post(io, [&] { queue->push_from_loop(ack(7)); });
  io.run();
  queue->push(ack(8));  // directly, as the destructor's close
  io_thread.join();
  EXPECT_EQ(received, (std::vector<std::uint64_t>{7, 8}));
}

TEST(CommandQueue, AHandOverPostedBeforeTheQueueWentAwayDoesNothing) {
  boost::asio::io_context io;
  auto queue = std::make_shared<amqp::CommandQueue>(io.get_executor());
  boost::asio::post(io, [&] {
    queue->push_from_loop(ack(1));
    queue.reset();  // the connection is destroyed within the same turn
  });
  io.run();
  EXPECT_FALSE(queue);
}
