// Duplicate suppression (spec/wire.md §2.8, §3.11), bounded in memory.
#include <tomodachi/messaging.hpp>

namespace tomodachi {

DuplicateRegistry::DuplicateRegistry(std::size_t max_entries, Clock::duration window,
                                     std::function<Clock::time_point()> now)
    : max_entries_(max_entries == 0 ? 1 : max_entries), window_(window), now_(std::move(now)) {}

DuplicateRegistry& DuplicateRegistry::process() {
  static DuplicateRegistry instance;
  return instance;
}

DuplicateRegistry::Seen DuplicateRegistry::begin(const std::string& key) {
  const Clock::time_point current = now();
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (!it->second.completed) return Seen::in_progress;
    if (current - it->second.time < window_) return Seen::completed;
  }
  const std::uint64_t sequence = ++next_sequence_;
  entries_.insert_or_assign(key, Entry{current, false, sequence});
  order_.emplace_back(sequence, key);
  prune(current);
  return Seen::no;
}

void DuplicateRegistry::complete(const std::string& key) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return;
  const Clock::time_point current = now();
  it->second.completed = true;
  it->second.time = current;
  it->second.sequence = ++next_sequence_;
  order_.emplace_back(it->second.sequence, key);
  prune(current);
}

void DuplicateRegistry::forget(const std::string& key) { entries_.erase(key); }

void DuplicateRegistry::prune(Clock::time_point current) {
  // Amortised O(1): nothing happens until the order records or the entries exceed their
  // bounds; then one pass drops stale records and expired entries, and the oldest
  // entries go until 90% of the bound remains.
  const bool too_many_records = order_.size() > 2 * max_entries_ + 64;
  const bool too_many_entries = entries_.size() > max_entries_;
  if (!too_many_records && !too_many_entries) return;

  std::deque<std::pair<std::uint64_t, std::string>> kept;
  for (auto& record : order_) {
    const auto it = entries_.find(record.second);
    if (it == entries_.end() || it->second.sequence != record.first) continue;  // stale record
    if (it->second.completed && current - it->second.time >= window_) {
      entries_.erase(it);
      continue;
    }
    kept.push_back(std::move(record));
  }
  order_ = std::move(kept);

  if (entries_.size() > max_entries_) {
    const std::size_t target = max_entries_ - max_entries_ / 10;
    while (entries_.size() > target && !order_.empty()) {
      const auto it = entries_.find(order_.front().second);
      if (it != entries_.end() && it->second.sequence == order_.front().first) entries_.erase(it);
      order_.pop_front();
    }
  }
}

}  // namespace tomodachi
