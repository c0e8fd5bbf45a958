#pragma once
// The I/O thread of one connection (DESIGN.md §2): it takes the loop's commands, runs the
// frame loop over rabbitmq-c (polling the socket and the command queue's eventfd together),
// and routes what arrives to the part that owns it. The parts, each with its own state:
//   Link            the open connection, its channels and awaited replies    (link.hpp)
//   Connector       first connect, reconnects, epochs                       (connector.hpp)
//   ReconnectPolicy backoff between attempts                                (reconnect_policy.hpp)
//   TopologyRunner  steps one at a time, recorded and replayed              (topology_runner.hpp)
//   Publisher       publisher confirms                                      (publisher.hpp)
//   Deliveries      deliveries and acks                                     (deliveries.hpp)
//   Consumers       consumer tags and cancels                               (consumers.hpp)
// The loop itself owns the connection's state (idle, connected, reconnecting, closing,
// closed), the loss of a connection (every part is told) and the close.

#include "amqp/command_queue.hpp"
#include "amqp/connector.hpp"
#include "amqp/consumers.hpp"
#include "amqp/deliveries.hpp"
#include "amqp/link.hpp"
#include "amqp/publisher.hpp"
#include "amqp/reconnect_policy.hpp"
#include "amqp/shared_state.hpp"
#include "amqp/topology_runner.hpp"

#include <amqp.h>

#include <functional>
#include <memory>
#include <string>

namespace tomodachi::amqp_impl {

class IoLoop {
 public:
  IoLoop(SharedState& shared, CommandQueue& commands, std::weak_ptr<Connection::DeliverySink> sink);
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  /// The thread's function: returns once closed by a CloseCommand with `exit_thread`.
  void run();

 private:
  enum class State { idle, connected, reconnecting, closing, closed };

  void take_commands();
  void handle(ConnectCommand& command);
  void handle(ExecuteCommand& command);
  void handle(PublishCommand& command);
  void handle(AckCommand& command);
  void handle(CancelCommand& command);
  void handle(CloseCommand& command);
  void handle(NetworkFailureCommand& command);

  void opened();
  void reconnect_step();
  void connection_lost(const std::string& reason);

  void service_connection();
  void read_frames();
  void handle_frame(const amqp_frame_t& frame);
  void handle_method(amqp_channel_t channel, const amqp_method_t& method);
  void handle_connection_method(const amqp_method_t& method);
  void channel_closed(amqp_channel_t channel, const amqp_method_t& method);

  void finish_close();
  void post_closed(std::function<void()> closed);
  void flush_results();
  bool open_for_work() const;

  SharedState& shared_;
  CommandQueue& commands_;
  Link link_;
  ReconnectPolicy policy_;
  Consumers consumers_;
  TopologyRunner topology_;
  Deliveries deliveries_;
  Publisher publisher_;
  Connector connector_;

  State state_ = State::idle;
  Clock::time_point next_maintenance_{};
  bool exit_requested_ = false;
  Clock::time_point close_deadline_{};
  std::function<void()> close_handler_;
};

}  // namespace tomodachi::amqp_impl
