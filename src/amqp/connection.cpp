// The loop's side of a connection: each call becomes a command for the I/O thread
// (command_queue.hpp) and, where the caller waits, a completion handler the I/O thread
// posts back. Everything the I/O thread does is in io_loop.hpp and the parts it lists.

#include "amqp/connection.hpp"

#include <tomodachi/detail/assert.hpp>

#include "amqp/command_queue.hpp"
#include "amqp/io_loop.hpp"
#include "amqp/log.hpp"
#include "amqp/shared_state.hpp"
#include "core/async.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/socket.h>

#include <future>
#include <thread>

namespace tomodachi::amqp_impl {

struct Connection::Impl {
  Impl(ConnectionSettings settings, boost::asio::any_io_executor loop)
      : shared(std::move(settings), std::move(loop)),
        commands(std::make_shared<CommandQueue>(shared.loop)),
        sink(std::make_shared<DeliverySink>()),
        io(shared, *commands, sink) {}

  SharedState shared;
  std::shared_ptr<CommandQueue> commands;  // posted hand-overs hold it weakly
  std::shared_ptr<DeliverySink> sink;      // loop thread only; posted batches hold it weakly
  IoLoop io;                               // I/O thread only
  std::thread thread;
};

ConnectionSettings ConnectionSettings::from(const Options::Amqp& options) {
  ConnectionSettings settings;
  settings.host = options.host;
  settings.port = options.port;
  settings.login = options.login;
  settings.password = options.password;
  settings.virtualhost = options.virtualhost;
  settings.ssl = options.ssl;
  settings.heartbeat = options.heartbeat;
  return settings;
}

std::string ConnectionSettings::address() const { return host + ":" + std::to_string(port); }

Connection::Connection(ConnectionSettings settings, boost::asio::any_io_executor loop)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(loop))) {
  impl_->thread = std::thread([io = &impl_->io] { io->run(); });
}

Connection::~Connection() {
  impl_->shared.stopping.store(true);
  impl_->shared.detached.store(true);
  impl_->commands->hand_over();  // acks collected in this turn of the loop still go out
  impl_->commands->push(CloseCommand{Clock::now(), nullptr, true});
  // A write blocked by a dead peer ends when the socket is shut down.
  auto& thread = impl_->thread;
  std::promise<void> joined;
  auto done = joined.get_future();
  std::thread joiner([&thread, &joined] {
    thread.join();
    joined.set_value();
  });
  if (done.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
    if (const int fd = impl_->shared.socket_fd.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }
  joiner.join();
}

const ConnectionSettings& Connection::settings() const noexcept { return impl_->shared.settings; }

void Connection::on_deliveries(DeliverySink sink) { *impl_->sink = std::move(sink); }

void Connection::set_delivery_preprocessor(std::function<void(Delivery&)> preprocessor) {
  // The I/O thread reads it without a lock from the first command on.
  TOMODACHI_ASSERT(!impl_->commands->handed_over(), "set the preprocessor before connect()");
  impl_->shared.preprocessor = std::move(preprocessor);
}

Task<void> Connection::connect(Clock::time_point deadline) {
  if (impl_->shared.has_connected.load()) co_return;  // reconnects are the connection's own
  auto initiation = [commands = impl_->commands.get()](auto handler, Clock::time_point d) {
    commands->push_from_loop(ConnectCommand{VoidHandler(std::move(handler)), d});
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>,
                                       void(std::exception_ptr)>(
      initiation, boost::asio::use_awaitable, deadline);
}

Task<void> Connection::connect() {
  co_await connect(Clock::now() + impl_->shared.settings.connect_timeout);
}

Task<StepResult> Connection::execute(TopologyStep step) {
  auto initiation = [commands = impl_->commands.get()](auto handler, TopologyStep s) {
    commands->push_from_loop(ExecuteCommand{std::move(s), StepHandler(std::move(handler))});
  };
  co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>,
                                                 void(std::exception_ptr, StepResult)>(
      initiation, boost::asio::use_awaitable, std::move(step));
}

// Not a coroutine: the awaitable of the initiation itself (one frame less per publish).
Task<void> Connection::publish(OutgoingMessage message, Clock::time_point deadline) {
  auto initiation = [commands = impl_->commands.get()](auto handler, OutgoingMessage m,
                                                       Clock::time_point d) {
    PendingPublish publish{std::move(m), d, PublishCompletion{VoidHandler(std::move(handler)), {}},
                           std::nullopt};
    commands->push_from_loop(PublishCommand{std::move(publish)});
  };
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>,
                                     void(std::exception_ptr)>(
      initiation, boost::asio::use_awaitable, std::move(message), deadline);
}

void Connection::publish_detached(OutgoingMessage message, Clock::time_point deadline,
                                  std::function<void(std::exception_ptr)> done) {
  PendingPublish publish{std::move(message), deadline,
                         PublishCompletion{std::nullopt, std::move(done)}, std::nullopt};
  impl_->commands->push_from_loop(PublishCommand{std::move(publish)});
}

void Connection::ack(std::uint64_t epoch, std::uint64_t delivery_tag) {
  impl_->commands->push_from_loop(AckCommand{epoch, delivery_tag, true, false});
}

void Connection::nack(std::uint64_t epoch, std::uint64_t delivery_tag, bool requeue) {
  impl_->commands->push_from_loop(AckCommand{epoch, delivery_tag, false, requeue});
}

Task<void> Connection::cancel(std::vector<std::uint32_t> consumer_ids) {
  auto initiation = [commands = impl_->commands.get()](auto handler,
                                                       std::vector<std::uint32_t> ids) {
    commands->push_from_loop(CancelCommand{std::move(ids), VoidHandler(std::move(handler))});
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>,
                                       void(std::exception_ptr)>(
      initiation, boost::asio::use_awaitable, std::move(consumer_ids));
}

// Raced against the deadline on the loop: when the I/O thread has not closed by then (a
// peer that stopped answering), the socket is shut down, which ends any call blocked on it.
Task<bool> Connection::close(Clock::time_point deadline) {
  impl_->shared.stopping.store(true);
  // Set on the loop once the I/O thread has closed; outlives this call when it gives up.
  auto closed = std::make_shared<core::Event>();
  impl_->commands->push_from_loop(CloseCommand{deadline, [closed] { closed->set(); }});
  const bool in_time = co_await closed->wait_until(deadline);
  if (in_time) co_return true;
  log().warning("closing the connection [amqp] to " + impl_->shared.settings.address() +
                " did not finish within the grace period - dropping it");
  if (const int fd = impl_->shared.socket_fd.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
  co_return false;
}

void Connection::stop_requested() noexcept { impl_->shared.stopping.store(true); }

bool Connection::connected() const noexcept { return impl_->shared.is_connected.load(); }

bool Connection::has_connected() const noexcept { return impl_->shared.has_connected.load(); }

ConnectionStats Connection::stats() const noexcept {
  const auto& shared = impl_->shared;
  return ConnectionStats{shared.connects.load(), shared.published.load(), shared.confirmed.load(),
                         shared.deliveries.load()};
}

std::uint64_t Connection::epoch() const noexcept { return impl_->shared.current_epoch.load(); }

void Connection::simulate_network_failure() { impl_->commands->push(NetworkFailureCommand{}); }

}  // namespace tomodachi::amqp_impl
