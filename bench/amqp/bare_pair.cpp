// Reference for bench/amqp: a bare rabbitmq-c publisher/consumer pair with exactly the
// settings of the tomodachi benchmark (amqp.topic, non-persistent, publisher confirms
// pipelined with at most 256 in flight, consumer prefetch 100, one ack per message).
//
//   amqp_bare_pair <host> <port> <mode e2e|publish> <count> <body-bytes>
//   amqp_bare_pair <host> <port> bind <queue> <routing-key>     (queue for a publish-only run)
//   amqp_bare_pair <host> <port> delete <queue> -
//
// Prints one line: `<mode> <count> messages in <seconds> s: <rate> msg/s`.
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

constexpr int max_in_flight = 256;
constexpr int prefetch = 100;

void check(amqp_rpc_reply_t reply, const char* what) {
  if (reply.reply_type != AMQP_RESPONSE_NORMAL)
    throw std::runtime_error(std::string(what) + " failed");
}
void check(int status, const char* what) {
  if (status != AMQP_STATUS_OK)
    throw std::runtime_error(std::string(what) + ": " + amqp_error_string2(status));
}

amqp_connection_state_t open(const char* host, int port) {
  amqp_connection_state_t c = amqp_new_connection();
  amqp_socket_t* socket = amqp_tcp_socket_new(c);
  check(amqp_socket_open(socket, host, port), "connect");
  check(amqp_login(c, "/", 0, 131072, 60, AMQP_SASL_METHOD_PLAIN, "guest", "guest"), "login");
  amqp_channel_open(c, 1);
  check(amqp_get_rpc_reply(c), "channel.open");
  return c;
}

void close(amqp_connection_state_t c) {
  amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(c, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(c);
}

void publish_all(const char* host, int port, const std::string& routing_key,
                 const std::string& body, int count) {
  amqp_connection_state_t c = open(host, port);
  amqp_confirm_select(c, 1);
  check(amqp_get_rpc_reply(c), "confirm.select");
  std::uint64_t sent = 0, confirmed = 0;
  const auto read_confirm = [&] {
    amqp_frame_t frame;
    check(amqp_simple_wait_frame(c, &frame), "wait for confirm");
    if (frame.frame_type != AMQP_FRAME_METHOD) return;
    if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      const auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      confirmed = ack->multiple ? ack->delivery_tag : confirmed + 1;
    } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
      throw std::runtime_error("nack");
    }
    amqp_maybe_release_buffers(c);
  };
  for (int i = 0; i < count; ++i) {
    while (sent - confirmed >= max_in_flight) read_confirm();
    check(amqp_basic_publish(c, 1, amqp_cstring_bytes("amq.topic"),
                             amqp_cstring_bytes(routing_key.c_str()), 0, 0, nullptr,
                             amqp_bytes_t{body.size(), const_cast<char*>(body.data())}),
          "publish");
    ++sent;
  }
  while (confirmed < sent) read_confirm();
  close(c);
}

void consume_all(const char* host, int port, const std::string& queue, int count,
                 std::atomic<bool>& ready) {
  amqp_connection_state_t c = open(host, port);
  amqp_basic_qos(c, 1, 0, prefetch, 0);
  check(amqp_get_rpc_reply(c), "basic.qos");
  amqp_basic_consume(c, 1, amqp_cstring_bytes(queue.c_str()), amqp_empty_bytes, 0, 0, 0,
                     amqp_empty_table);
  check(amqp_get_rpc_reply(c), "basic.consume");
  ready = true;
  for (int received = 0; received < count;) {
    amqp_envelope_t envelope;
    amqp_maybe_release_buffers(c);
    const amqp_rpc_reply_t reply = amqp_consume_message(c, &envelope, nullptr, 0);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
      if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
          reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        amqp_frame_t frame;
        check(amqp_simple_wait_frame(c, &frame), "unexpected frame");
        continue;
      }
      throw std::runtime_error("consume failed");
    }
    check(amqp_basic_ack(c, 1, envelope.delivery_tag, 0), "ack");
    amqp_destroy_envelope(&envelope);
    ++received;
  }
  close(c);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s <host> <port> <e2e|publish> <count> <body-bytes>\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  const int port = std::atoi(argv[2]);
  const std::string mode = argv[3];
  if (mode == "bind" || mode == "delete") {
    amqp_connection_state_t admin = open(host, port);
    const std::string name = argv[4];
    if (mode == "bind") {
      amqp_queue_declare(admin, 1, amqp_cstring_bytes(name.c_str()), 0, 1, 0, 0, amqp_empty_table);
      check(amqp_get_rpc_reply(admin), "queue.declare");
      amqp_queue_bind(admin, 1, amqp_cstring_bytes(name.c_str()), amqp_cstring_bytes("amq.topic"),
                      amqp_cstring_bytes(argv[5]), amqp_empty_table);
      check(amqp_get_rpc_reply(admin), "queue.bind");
    } else {
      amqp_queue_delete(admin, 1, amqp_cstring_bytes(name.c_str()), 0, 0);
      check(amqp_get_rpc_reply(admin), "queue.delete");
    }
    close(admin);
    return 0;
  }
  const int count = std::atoi(argv[4]);
  const std::string body(static_cast<std::size_t>(std::atoi(argv[5])), 'x');
  const std::string suffix = std::to_string(std::random_device{}());
  const std::string queue = "bench-bare-" + suffix, routing_key = "bench.bare." + suffix;

  amqp_connection_state_t admin = open(host, port);
  amqp_queue_declare(admin, 1, amqp_cstring_bytes(queue.c_str()), 0, 1, 0, 0, amqp_empty_table);
  check(amqp_get_rpc_reply(admin), "queue.declare");
  amqp_queue_bind(admin, 1, amqp_cstring_bytes(queue.c_str()), amqp_cstring_bytes("amq.topic"),
                  amqp_cstring_bytes(routing_key.c_str()), amqp_empty_table);
  check(amqp_get_rpc_reply(admin), "queue.bind");

  std::atomic<bool> ready{false};
  std::thread consumer;
  if (mode == "e2e") {
    consumer = std::thread([&] { consume_all(host, port, queue, count, ready); });
    while (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const auto start = std::chrono::steady_clock::now();
  publish_all(host, port, routing_key, body, count);
  if (consumer.joinable()) consumer.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  amqp_queue_delete(admin, 1, amqp_cstring_bytes(queue.c_str()), 0, 0);
  close(admin);
  std::printf("%s %d messages in %.3f s: %.0f msg/s\n", mode.c_str(), count, seconds,
              count / seconds);
  return 0;
}
