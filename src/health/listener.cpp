// The management listener's thread: poll(2) over the listening socket and at most
// max_connections connections. HTTP parsing is minimal and bounded: one request per
// connection (Connection: close), the head at most max_head bytes, the whole exchange at
// most connection_timeout, GET and HEAD only. Never calls into the loop.
#include "health/listener.hpp"

#include "health/answer.hpp"

#include <tomodachi/error.hpp>

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tomodachi::health {

namespace {

constexpr std::size_t max_head = 8192;
constexpr std::size_t max_connections = 64;
constexpr auto connection_timeout = std::chrono::seconds(5);

struct Conn {
  int fd = -1;
  Clock::time_point deadline;
  std::string in;
  std::string out;
  std::size_t sent = 0;
  bool answered = false;
};

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string response(int status, std::string_view type, const std::string& body, bool head,
                     std::string_view extra = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                    std::string(reason_phrase(status)) + "\r\nContent-Type: " + std::string(type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nCache-Control: no-store\r\nConnection: close\r\n" + std::string(extra) +
                    "\r\n";
  if (!head) out += body;
  return out;
}

/// The answer to one request head (`head` ends before its blank line).
std::string answer_head(std::string_view head) {
  const std::string_view line = head.substr(0, head.find("\r\n"));
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.substr(sp2 + 1).substr(0, 5) != "HTTP/")
    return response(400, text_type, "bad request\n", false);
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const auto probe = match_probe(Registry::instance().options().path_prefix, path);
  const bool head_request = method == "HEAD";
  if (!probe) return response(404, text_type, "not found\n", head_request);
  if (method != "GET" && !head_request)
    return response(405, text_type, "method not allowed\n", false, "Allow: GET, HEAD\r\n");
  const HealthAnswer answer = render(*probe, verbose_query(query));
  return response(answer.status, answer.content_type, answer.body, head_request);
}

/// Reads what arrived; a complete head (or one too large) gets its answer, a closed or failed
/// connection is marked answered with nothing to send.
void read_request(Conn& conn) {
  char buffer[2048];
  for (;;) {
    const ssize_t n = ::recv(conn.fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      conn.in.append(buffer, static_cast<std::size_t>(n));
      if (conn.in.size() > max_head) break;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
    conn.answered = true;  // closed or failed before a head: nothing to answer
    conn.out.clear();
    return;
  }
  const auto end = conn.in.find("\r\n\r\n");
  if (end != std::string::npos) {
    conn.out = answer_head(std::string_view(conn.in).substr(0, end));
    conn.answered = true;
  } else if (conn.in.size() > max_head) {
    conn.out = response(431, text_type, "request head too large\n", false);
    conn.answered = true;
  }
}

/// Sends what is pending; true when everything went out (or the peer is gone).
bool write_response(Conn& conn) {
  while (conn.sent < conn.out.size()) {
    const ssize_t n =
        ::send(conn.fd, conn.out.data() + conn.sent, conn.out.size() - conn.sent, MSG_NOSIGNAL);
    if (n > 0) {
      conn.sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
    return true;
  }
  return true;
}

[[noreturn]] void serve(int listen_fd) {
  std::vector<Conn> conns;
  std::vector<pollfd> fds;
  for (;;) {
    fds.assign(1, pollfd{listen_fd, POLLIN, 0});
    for (const auto& conn : conns)
      fds.push_back(pollfd{conn.fd, static_cast<short>(conn.answered ? POLLOUT : POLLIN), 0});
    ::poll(fds.data(), fds.size(), 200);
    const auto now = Clock::now();
    for (std::size_t i = 0; i < conns.size(); ++i) {
      Conn& conn = conns[i];
      const short revents = fds[i + 1].revents;
      if (!conn.answered && (revents & (POLLIN | POLLHUP | POLLERR))) read_request(conn);
      bool done = false;
      if (conn.answered) done = write_response(conn);
      if (done || now >= conn.deadline) {
        ::close(conn.fd);
        conn.fd = -1;
      }
    }
    std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
    if (!(fds[0].revents & POLLIN)) continue;
    for (;;) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) break;
      if (conns.size() >= max_connections) {
        ::close(fd);
        continue;
      }
      conns.push_back(Conn{fd, Clock::now() + connection_timeout, {}, {}, 0, false});
    }
  }
}

int bind_listener(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const std::string where = (host.empty() ? "0.0.0.0" : host) + ":" + service;
  if (const int rc =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    throw Error("unable to bind the health listener to " + where + ": " + gai_strerror(rc));
  }
  int error = 0;
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
      error = errno;
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0)
    throw Error("unable to bind the health listener to " + where + ": " + std::strerror(error));
  return fd;
}

int bound_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
}

}  // namespace

ListenerAddress open_listener(const std::string& host, int port) {
  static std::mutex mutex;
  static std::optional<ListenerAddress> opened;
  std::lock_guard lock(mutex);
  if (opened) return *opened;
  const int fd = bind_listener(host, port);
  opened = ListenerAddress{host, bound_port(fd)};
  std::thread(serve, fd).detach();  // runs until the process exits
  return *opened;
}

}  // namespace tomodachi::health
