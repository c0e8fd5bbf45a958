// The readiness of a connection's consumers: one report per consumer (consumer_health.hpp).
#include "amqp/consumer_health.hpp"

namespace tomodachi::amqp_impl {

namespace {
constexpr std::string_view cancelled_text =
    "consumer cancelled by the broker (queue deleted?) - consuming again";
}

void ConsumerHealth::consuming(std::uint32_t consumer_id, std::string_view queue) {
  auto found = entries_.find(consumer_id);
  if (found == entries_.end()) {
    found = entries_
                .emplace(consumer_id, Entry{ReadinessReport("amqp:" + std::string(queue)),
                                            std::string(queue), false})
                .first;
  }
  found->second.cancelled_by_broker = false;
  found->second.report.ok();
}

void ConsumerHealth::cancelled_by_broker(std::uint32_t consumer_id) {
  const auto found = entries_.find(consumer_id);
  if (found == entries_.end()) return;
  found->second.cancelled_by_broker = true;
  found->second.report.failing(std::string(cancelled_text));
}

void ConsumerHealth::connection_lost(std::string_view reason) {
  for (auto& [id, entry] : entries_) {
    std::string text = "reconnecting: " + std::string(reason.empty() ? "connection lost" : reason);
    if (entry.cancelled_by_broker) text = std::string(cancelled_text) + "; then " + text;
    entry.report.failing(std::move(text));
  }
}

void ConsumerHealth::forget(const std::set<std::uint32_t>& consumer_ids) {
  for (const auto id : consumer_ids) entries_.erase(id);
}

void ConsumerHealth::closed() {
  for (auto& [id, entry] : entries_) entry.report.failing("the connection is closed");
}

}  // namespace tomodachi::amqp_impl
