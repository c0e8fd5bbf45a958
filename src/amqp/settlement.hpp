#pragma once
// Bookkeeping of the connection thread, kept out of it so it can be unit-tested:
// acknowledgements to send (coalesced into basic.ack(multiple)), and publishes waiting for
// the broker's confirm. Delivery tags and publish sequence numbers only grow on a channel,
// so both are deques in tag order (no allocation per message, binary search by tag).

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <tomodachi/detail/assert.hpp>
#include <utility>
#include <vector>

namespace tomodachi::amqp_impl {

/// Deliveries handed to the service loop and not settled at the broker yet.
class AckTracker {
 public:
  /// What to send for the acks collected since the last call.
  struct Plan {
    std::optional<std::uint64_t> multiple_through;  ///< basic.ack(tag, multiple=true)
    std::vector<std::uint64_t> singles;             ///< basic.ack(tag, multiple=false)
  };

  void delivered(std::uint64_t tag) {
    TOMODACHI_ASSERT(entries_.empty() || entries_.back().tag < tag, "delivery tags only grow");
    entries_.push_back({tag, State::pending});
  }

  /// The loop acked `tag` (sent with the next plan). Unknown tags are ignored.
  void acked(std::uint64_t tag) {
    if (Entry* entry = find(tag); entry && entry->state == State::pending)
      entry->state = State::acked;
  }

  /// `tag` was nacked (already sent): a later multiple-ack may cover it, the broker has
  /// settled it.
  void settled(std::uint64_t tag) {
    if (Entry* entry = find(tag)) entry->state = State::done;
    trim();
  }

  /// The longest run of settled deliveries from the oldest one becomes one multiple-ack
  /// (when it contains an ack); acks behind a pending delivery go one by one.
  Plan take() {
    Plan plan;
    while (!entries_.empty() && entries_.front().state != State::pending) {
      if (entries_.front().state == State::acked) plan.multiple_through = entries_.front().tag;
      entries_.pop_front();
    }
    for (auto& entry : entries_) {
      if (entry.state == State::acked) {
        plan.singles.push_back(entry.tag);
        entry.state = State::done;
      }
    }
    return plan;
  }

  std::size_t size() const noexcept { return entries_.size(); }
  void clear() { entries_.clear(); }

 private:
  enum class State { pending, acked, done };
  struct Entry {
    std::uint64_t tag;
    State state;
  };

  Entry* find(std::uint64_t tag) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), tag,
                               [](const Entry& e, std::uint64_t t) { return e.tag < t; });
    return it != entries_.end() && it->tag == tag ? &*it : nullptr;
  }
  void trim() {
    while (!entries_.empty() && entries_.front().state == State::done) entries_.pop_front();
  }

  std::deque<Entry> entries_;
};

/// Publishes sent and not confirmed yet, by publish sequence number.
template <typename Publish>
class ConfirmQueue {
 public:
  void sent(std::uint64_t sequence, Publish publish) {
    TOMODACHI_ASSERT(entries_.empty() || entries_.back().first < sequence,
                     "publish sequence numbers only grow");
    entries_.emplace_back(sequence, std::move(publish));
  }

  /// basic.ack / basic.nack from the broker: calls `settle(publish)` for each confirmed one.
  template <typename Settle>
  void confirm(std::uint64_t tag, bool multiple, Settle&& settle) {
    if (multiple) {
      while (!entries_.empty() && entries_.front().first <= tag) {
        if (entries_.front().second) settle(*entries_.front().second);
        entries_.pop_front();
      }
      return;
    }
    auto it = std::lower_bound(entries_.begin(), entries_.end(), tag,
                               [](const auto& e, std::uint64_t t) { return e.first < t; });
    if (it != entries_.end() && it->first == tag && it->second) {
      settle(*it->second);
      it->second.reset();
    }
    trim();
  }

  /// Calls `fn(publish)` for every unconfirmed publish in order; removes those for which it
  /// returns true.
  template <typename Fn>
  void remove_if(Fn&& fn) {
    for (auto& entry : entries_) {
      if (entry.second && fn(*entry.second)) entry.second.reset();
    }
    trim();
  }

  /// Takes every unconfirmed publish out, in order.
  std::vector<Publish> take_all() {
    std::vector<Publish> out;
    for (auto& entry : entries_) {
      if (entry.second) out.push_back(std::move(*entry.second));
    }
    entries_.clear();
    return out;
  }

  bool empty() const noexcept { return entries_.empty(); }

 private:
  void trim() {
    while (!entries_.empty() && !entries_.front().second) entries_.pop_front();
  }
  std::deque<std::pair<std::uint64_t, std::optional<Publish>>> entries_;
};

}  // namespace tomodachi::amqp_impl
