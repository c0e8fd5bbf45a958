#include "amqp/link.hpp"

#include <tomodachi/detail/assert.hpp>

#include "amqp/log.hpp"
#include "amqp/methods.hpp"

#include <amqp_framing.h>

#include <algorithm>

namespace tomodachi::amqp_impl {

Link::Link(SharedState& shared, LostHandler lost) : shared_(shared), lost_(std::move(lost)) {}

Link::~Link() {
  // The I/O thread destroys its connection before it ends (the close is its last step).
  TOMODACHI_ASSERT(!conn_, "the connection is closed before the I/O thread ends");
  if (conn_) amqp_destroy_connection(conn_);
}

int Link::socket() const noexcept { return conn_ ? amqp_get_sockfd(conn_) : -1; }

bool Link::channel_ready(amqp_channel_t channel) const noexcept {
  return channel < channel_ready_.size() && channel_ready_[channel];
}

void Link::adopt(amqp_connection_state_t conn) {
  shared_.assert_io_thread();
  TOMODACHI_ASSERT(!conn_, "one connection at a time");
  conn_ = conn;
  shared_.socket_fd.store(amqp_get_sockfd(conn));
  channel_ready_ = {false, true, true, true};
  for (auto& queue : expectations_) queue.clear();
}

void Link::destroy() {
  shared_.assert_io_thread();
  if (conn_) {
    shared_.socket_fd.store(-1);
    amqp_destroy_connection(conn_);
    conn_ = nullptr;
  }
  shared_.is_connected.store(false);
  for (auto& queue : expectations_) queue.clear();
  channel_ready_ = {};
}

bool Link::send(amqp_channel_t channel, amqp_method_number_t id, void* method,
                const std::string& failure) {
  if (amqp_send_method(conn_, channel, id, method) == AMQP_STATUS_OK) return true;
  lost(failure);
  return false;
}

void Link::expect(amqp_channel_t channel, amqp_method_number_t reply_id, ReplyHandler done) {
  TOMODACHI_ASSERT(channel < expectations_.size(), "channels 1-3 only");
  expectations_[channel].push_back(Expectation{reply_id, std::move(done)});
}

bool Link::answer(amqp_channel_t channel, const amqp_method_t& method) {
  auto& queue = expectations_[channel < expectations_.size() ? channel : 0];
  if (queue.empty() || queue.front().reply_id != method.id) return false;
  auto expectation = std::move(queue.front());
  queue.pop_front();
  expectation.done(&method, nullptr);
  return true;
}

bool Link::channel_closed(amqp_channel_t channel, const BrokerError& error) {
  amqp_channel_close_ok_t ok{};
  if (!send(channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok, "cannot confirm a channel close")) {
    return false;
  }
  channel_ready_[channel] = false;
  auto failed = std::move(expectations_[channel]);
  expectations_[channel].clear();
  for (auto& expectation : failed) expectation.done(nullptr, &error);
  return true;
}

void Link::reopen(amqp_channel_t channel, std::function<void()> ready) {
  amqp_channel_open_t open{};
  open.out_of_band = amqp_empty_bytes;
  if (!send(channel, AMQP_CHANNEL_OPEN_METHOD, &open,
            "cannot reopen channel " + std::to_string(channel))) {
    return;
  }
  expect(channel, AMQP_CHANNEL_OPEN_OK_METHOD,
         [this, channel, ready = std::move(ready)](const amqp_method_t* reply,
                                                   const BrokerError*) mutable {
           if (!reply) return;
           if (channel != publish_channel) {
             channel_ready_[channel] = true;
             return;
           }
           amqp_confirm_select_t select{};
           select.nowait = 0;
           if (!send(channel, AMQP_CONFIRM_SELECT_METHOD, &select,
                     "cannot enable publisher confirms")) {
             return;
           }
           expect(channel, AMQP_CONFIRM_SELECT_OK_METHOD,
                  [this, channel, ready = std::move(ready)](const amqp_method_t* ok,
                                                            const BrokerError*) {
                    if (!ok) return;
                    if (ready) ready();
                    channel_ready_[channel] = true;
                  });
         });
}

std::chrono::milliseconds Link::maintenance_interval() const {
  const int heartbeat = amqp_get_heartbeat(conn_);
  if (heartbeat <= 0) return std::chrono::milliseconds(30000);
  return std::chrono::milliseconds(std::max(250, heartbeat * 1000 / 2));
}

}  // namespace tomodachi::amqp_impl
