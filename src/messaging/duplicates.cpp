// Duplicate suppression (spec/wire.md §2.8, §3.11), bounded in count and size.
#include <tomodachi/detail/assert.hpp>
#include <tomodachi/transport/messaging.hpp>

#include "core/encoding.hpp"

#include <atomic>
#include <cstring>
#include <list>
#include <unordered_map>

namespace tomodachi {

// Two lists hold the entries: in-progress keys (handlers running; few, as many as the
// deliveries in flight) and completed keys in completion order, so the ones that leave
// the window first are always at the front. The map finds an entry by key.
struct DuplicateRegistry::State {
  struct Entry {
    Key key;
    Clock::time_point completed_at;
    bool completed = false;
  };
  using List = std::list<Entry>;
  struct KeyHash {
    std::size_t operator()(const Key& key) const noexcept {
      return static_cast<std::size_t>(key[0]);
    }
  };

  List in_progress;
  List completed;
  std::unordered_map<Key, List::iterator, KeyHash> index;

#if TOMODACHI_ASSERTIONS
  // "Used from the loop thread only": the calls are synchronous, so two at once are a race.
  std::atomic<int> callers{0};
  struct Exclusive {
    explicit Exclusive(std::atomic<int>& count) : count_(count) {
      TOMODACHI_ASSERT(count_.fetch_add(1) == 0,
                       "DuplicateRegistry used from two threads at once (loop thread only)");
    }
    ~Exclusive() { count_.fetch_sub(1); }
    Exclusive(const Exclusive&) = delete;
    Exclusive& operator=(const Exclusive&) = delete;

   private:
    std::atomic<int>& count_;
  };
#define TOMODACHI_DUPLICATES_EXCLUSIVE(state) State::Exclusive exclusive_use((state).callers)
#else
#define TOMODACHI_DUPLICATES_EXCLUSIVE(state) (void)0
#endif

  // Every entry is in exactly one list and in the index, never more than `max_entries`.
  bool consistent(std::size_t max_entries) const {
    return index.size() == in_progress.size() + completed.size() && index.size() <= max_entries;
  }

  void erase(std::unordered_map<Key, List::iterator, KeyHash>::iterator found) {
    (found->second->completed ? completed : in_progress).erase(found->second);
    index.erase(found);
  }

  void erase_front(List& list) {
    index.erase(list.front().key);
    list.pop_front();
  }

  void drop_expired(Clock::time_point now, Clock::duration window) {
    while (!completed.empty() && now - completed.front().completed_at >= window)
      erase_front(completed);
  }

  // One entry out for one coming in: the completed key nearest to the end of its window,
  // else (every entry is in progress) the oldest in-progress one.
  void make_room(std::size_t max_entries) {
    while (index.size() >= max_entries) erase_front(completed.empty() ? in_progress : completed);
  }
};

DuplicateRegistry::DuplicateRegistry(std::size_t max_entries, Clock::duration window,
                                     std::function<Clock::time_point()> now)
    : max_entries_(max_entries == 0 ? 1 : max_entries),
      window_(window),
      now_(std::move(now)),
      state_(std::make_unique<State>()) {}

DuplicateRegistry::~DuplicateRegistry() = default;

DuplicateRegistry& DuplicateRegistry::process() {
  static DuplicateRegistry instance;
  return instance;
}

DuplicateRegistry::Key DuplicateRegistry::key_of(std::string_view text) {
  const std::string digest = encoding::sha256(text);
  Key key;
  static_assert(sizeof(key) == 16);
  std::memcpy(key.data(), digest.data(), sizeof(key));
  return key;
}

std::size_t DuplicateRegistry::size() const noexcept { return state_->index.size(); }

DuplicateRegistry::Seen DuplicateRegistry::begin(const Key& key) {
  const Clock::time_point current = now();
  State& state = *state_;
  TOMODACHI_DUPLICATES_EXCLUSIVE(state);
  state.drop_expired(current, window_);
  if (const auto found = state.index.find(key); found != state.index.end()) {
    return found->second->completed ? Seen::completed : Seen::in_progress;
  }
  state.make_room(max_entries_);
  state.in_progress.push_back(State::Entry{key, {}, false});
  state.index.emplace(key, std::prev(state.in_progress.end()));
  TOMODACHI_ASSERT(state.consistent(max_entries_), "DuplicateRegistry: lists and index disagree");
  return Seen::no;
}

void DuplicateRegistry::complete(const Key& key) {
  State& state = *state_;
  TOMODACHI_DUPLICATES_EXCLUSIVE(state);
  const auto found = state.index.find(key);
  if (found == state.index.end()) return;  // dropped to make room meanwhile
  const Clock::time_point current = now();
  State::List::iterator entry = found->second;
  entry->completed_at = current;
  State::List& from = entry->completed ? state.completed : state.in_progress;
  entry->completed = true;
  state.completed.splice(state.completed.end(), from, entry);
  state.drop_expired(current, window_);
  TOMODACHI_ASSERT(state.consistent(max_entries_), "DuplicateRegistry: lists and index disagree");
}

void DuplicateRegistry::forget(const Key& key) {
  TOMODACHI_DUPLICATES_EXCLUSIVE(*state_);
  const auto found = state_->index.find(key);
  if (found != state_->index.end()) state_->erase(found);
}

}  // namespace tomodachi
