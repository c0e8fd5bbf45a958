// Ack coalescing and the confirm queue of the connection thread.
#include "amqp/settlement.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rmq = tomodachi::amqp_impl;

TEST(AckTracker, ContiguousAcksFromTheOldestBecomeOneMultipleAck) {
  rmq::AckTracker acks;
  for (std::uint64_t tag = 1; tag <= 6; ++tag) acks.delivered(tag);
  acks.acked(2);
  acks.acked(1);
  acks.acked(5);
  auto plan = acks.take();
  EXPECT_EQ(plan.multiple_through, 2u);                      // 1 and 2
  EXPECT_EQ(plan.singles, (std::vector<std::uint64_t>{5}));  // behind pending 3
  EXPECT_EQ(acks.size(), 4u);                                // 3, 4, 5 (sent), 6

  acks.settled(3);  // nacked: settled at the broker, may be covered by a multiple ack
  acks.acked(4);
  plan = acks.take();
  EXPECT_EQ(plan.multiple_through,
            4u);  // covers 3 (nacked, no longer outstanding) and 4; 5 went already
  EXPECT_TRUE(plan.singles.empty());
  EXPECT_EQ(acks.size(), 1u);  // 6

  plan = acks.take();
  EXPECT_FALSE(plan.multiple_through);
  acks.acked(99);  // unknown (an older connection's) tag: ignored
  acks.acked(6);
  plan = acks.take();
  EXPECT_EQ(plan.multiple_through, 6u);
  EXPECT_EQ(acks.size(), 0u);
}

TEST(AckTracker, ANackedFirstDeliveryDoesNotBlockLaterAcks) {
  rmq::AckTracker acks;
  acks.delivered(10);
  acks.delivered(11);
  acks.settled(10);
  acks.acked(11);
  const auto plan = acks.take();
  EXPECT_EQ(plan.multiple_through, 11u);
  EXPECT_TRUE(plan.singles.empty());
}

TEST(ConfirmQueue, SingleAndMultipleConfirmsSettleInOrder) {
  rmq::ConfirmQueue<std::string> queue;
  for (int i = 1; i <= 5; ++i) queue.sent(i, "m" + std::to_string(i));
  std::vector<std::string> settled;
  const auto settle = [&](std::string& m) { settled.push_back(m); };
  queue.confirm(3, false, settle);
  queue.confirm(2, true, settle);  // 1 and 2 (3 already settled)
  EXPECT_EQ(settled, (std::vector<std::string>{"m3", "m1", "m2"}));
  queue.remove_if([](std::string& m) { return m == "m5"; });
  EXPECT_EQ(queue.take_all(), (std::vector<std::string>{"m4"}));
  EXPECT_TRUE(queue.empty());
}
