#include "amqp/handshake.hpp"

#include "amqp/broker_error.hpp"
#include "amqp/log.hpp"
#include "amqp/methods.hpp"

#include <amqp_framing.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>

namespace tomodachi::amqp_impl {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string lower_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// The errno of one non-blocking connect() to `address`, waited for at most `timeout`.
int connect_error(const addrinfo& address, std::chrono::milliseconds timeout, bool& tried) {
  const int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          address.ai_protocol);
  tried = fd >= 0;
  if (fd < 0) return 0;
  int error = 0;
  if (::connect(fd, address.ai_addr, address.ai_addrlen) != 0) {
    error = errno;
    if (error == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
      socklen_t length = sizeof(error);
      if (ready == 0) {
        error = ETIMEDOUT;
      } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
      }
    }
  }
  ::close(fd);
  return error;
}

// rabbitmq-c loses the errno of a failed connect(); ask the network ourselves so the log
// says "connection refused" / "no route to host" like upstream does.
std::string probe_connect_error(const std::string& host, int port,
                                std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return "hostname resolution failed: " + std::string(::gai_strerror(rc));
  }
  std::string reason = "socket error";
  for (addrinfo* a = found; a; a = a->ai_next) {
    bool tried = false;
    const int error = connect_error(*a, timeout, tried);
    if (!tried) continue;
    if (error == 0) {
      reason = "the connection closed during the handshake";
      break;
    }
    reason = lower_first(std::strerror(error));
  }
  ::freeaddrinfo(found);
  return reason;
}

// The TCP (or TLS) connection, before the AMQP handshake; nullopt: `reason` says why.
std::optional<std::string> open_socket(amqp_connection_state_t c,
                                       const ConnectionSettings& settings,
                                       std::chrono::milliseconds connect_timeout) {
  amqp_socket_t* socket = settings.ssl ? amqp_ssl_socket_new(c) : amqp_tcp_socket_new(c);
  if (!socket) return "cannot create a socket";
  if (settings.ssl) {
    auto* context = static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket));
    if (context) SSL_CTX_set_default_verify_paths(context);
  }
  timeval timeout = to_timeval(connect_timeout);
  if (const int status =
          amqp_socket_open_noblock(socket, settings.host.c_str(), settings.port, &timeout);
      status != AMQP_STATUS_OK) {
    if (status == AMQP_STATUS_SOCKET_ERROR) {
      return probe_connect_error(settings.host, settings.port, connect_timeout);
    }
    return status == AMQP_STATUS_TIMEOUT ? "timed out" : describe_status(status);
  }
  amqp_set_handshake_timeout(c, &timeout);
  amqp_set_rpc_timeout(c, &timeout);
  return std::nullopt;
}

// connection.start-ok with the connection's name and the capabilities beyond the library's
// defaults: blocked notifications, broker-side consumer cancels (queue deleted), confirms.
std::optional<std::string> login(amqp_connection_state_t c, const ConnectionSettings& settings) {
  std::array<amqp_table_entry_t, 4> capabilities{};
  const auto bool_entry = [](const char* key) {
    amqp_table_entry_t entry{};
    entry.key = amqp_cstring_bytes(key);
    entry.value.kind = AMQP_FIELD_KIND_BOOLEAN;
    entry.value.value.boolean = 1;
    return entry;
  };
  capabilities[0] = bool_entry("connection.blocked");
  capabilities[1] = bool_entry("consumer_cancel_notify");
  capabilities[2] = bool_entry("publisher_confirms");
  capabilities[3] = bool_entry("basic.nack");
  std::array<amqp_table_entry_t, 2> properties{};
  properties[0].key = amqp_cstring_bytes("connection_name");
  properties[0].value.kind = AMQP_FIELD_KIND_UTF8;
  properties[0].value.value.bytes = amqp_cstring_bytes(settings.connection_name.c_str());
  properties[1].key = amqp_cstring_bytes("capabilities");
  properties[1].value.kind = AMQP_FIELD_KIND_TABLE;
  properties[1].value.value.table.num_entries = static_cast<int>(capabilities.size());
  properties[1].value.value.table.entries = capabilities.data();
  amqp_table_t client_properties{static_cast<int>(properties.size()), properties.data()};

  const amqp_rpc_reply_t reply = amqp_login_with_properties(
      c, settings.virtualhost.c_str(), 0, 131072, settings.heartbeat, &client_properties,
      AMQP_SASL_METHOD_PLAIN, settings.login.c_str(), settings.password.c_str());
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) return describe_reply(reply);
  return std::nullopt;
}

std::optional<std::string> open_channels(amqp_connection_state_t c) {
  for (amqp_channel_t channel : {consumer_channel, management_channel, publish_channel}) {
    amqp_channel_open(c, channel);
    if (const auto reply = amqp_get_rpc_reply(c); reply.reply_type != AMQP_RESPONSE_NORMAL) {
      return "cannot open channel " + std::to_string(channel) + ": " + describe_reply(reply);
    }
  }
  amqp_confirm_select(c, publish_channel);
  if (const auto reply = amqp_get_rpc_reply(c); reply.reply_type != AMQP_RESPONSE_NORMAL) {
    return "cannot enable publisher confirms: " + describe_reply(reply);
  }
  return std::nullopt;
}

}  // namespace

amqp_connection_state_t open_connection(const ConnectionSettings& settings,
                                        std::chrono::milliseconds connect_timeout,
                                        std::string& reason) {
  amqp_connection_state_t c = amqp_new_connection();
  if (!c) {
    reason = "out of memory";
    return nullptr;
  }
  connect_timeout = std::max(connect_timeout, std::chrono::milliseconds(1));
  std::optional<std::string> failure = open_socket(c, settings, connect_timeout);
  if (!failure) failure = login(c, settings);
  if (!failure) failure = open_channels(c);
  if (failure) {
    amqp_destroy_connection(c);
    reason = std::move(*failure);
    return nullptr;
  }
  // A dead peer must not block a write forever: unacknowledged data fails the socket
  // after twice the heartbeat (or 30 s without heartbeats).
  const unsigned int user_timeout =
      static_cast<unsigned int>(settings.heartbeat > 0 ? settings.heartbeat * 2000 : 30000);
  ::setsockopt(amqp_get_sockfd(c), IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
               sizeof(user_timeout));
  return c;
}

void close_connection(amqp_connection_state_t conn, std::chrono::milliseconds rpc_timeout,
                      const std::string& address) {
  timeval timeout = to_timeval(rpc_timeout);
  amqp_set_rpc_timeout(conn, &timeout);
  if (const auto reply = amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
      reply.reply_type != AMQP_RESPONSE_NORMAL) {
    log().debug("connection.close [amqp] to " + address + " unanswered: " + describe_reply(reply));
  }
}

}  // namespace tomodachi::amqp_impl
