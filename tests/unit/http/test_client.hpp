#pragma once
// A tiny blocking HTTP/1.1 + websocket client over POSIX sockets for the transport
// tests (independent of Beast, so it checks the server's bytes, not Beast's view of them).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace http_test {

struct HttpReply {
  int status = 0;
  std::string status_line;
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool closed = false;  // the server closed the connection after it

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& name) const { return headers.count(name) > 0; }
};

class Connection {
 public:
  /// `receive_buffer` > 0: a small SO_RCVBUF (set before connecting) for a client that
  /// stops reading and should fill the server's socket buffer quickly.
  explicit Connection(int port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw std::runtime_error("connect failed");
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<std::size_t>(n);
    }
  }

  /// Reads more bytes into the buffer; false on EOF/error/timeout.
  bool fill(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  /// Reads one response (Content-Length framed, or until close). `head`: no body expected.
  std::optional<HttpReply> read_reply(
      bool head = false, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto remaining = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
    };
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (remaining().count() <= 0 || !fill(remaining())) return std::nullopt;
    }
    HttpReply reply;
    std::string head_text = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    auto line_end = head_text.find("\r\n");
    reply.status_line = head_text.substr(0, line_end);
    reply.status = std::stoi(reply.status_line.substr(9, 3));
    std::size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      auto next = head_text.find("\r\n", pos);
      if (next == std::string::npos) next = head_text.size();
      std::string line = head_text.substr(pos, next - pos);
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      reply.headers.emplace(name, value);
      pos = next + 2;
    }
    if (reply.status == 101) return reply;
    if (head || reply.status == 204 || reply.status == 304) {
      reply.closed = reply.header("connection") == "close";
      return reply;
    }
    if (reply.has_header("content-length")) {
      std::size_t length = std::stoul(reply.header("content-length"));
      while (buffer_.size() < length) {
        if (remaining().count() <= 0 || !fill(remaining())) return std::nullopt;
      }
      reply.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
    } else {
      while (fill(remaining())) {
      }
      reply.body = buffer_;
      buffer_.clear();
    }
    reply.closed = reply.header("connection") == "close";
    return reply;
  }

  /// True when the server closes the connection within `timeout` (nothing more to read).
  bool closed_by_server(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (eof_) return true;
      if (!fill(std::chrono::milliseconds(50)) && eof_) return true;
    }
    return eof_;
  }

  std::string& buffer() { return buffer_; }
  int fd() const { return fd_; }

  // ---- websocket (client side, masked frames) ----
  void ws_send_text(const std::string& text, unsigned char opcode = 0x1) {
    std::string frame;
    frame.push_back(static_cast<char>(0x80 | opcode));
    const unsigned char mask[4] = {0x11, 0x22, 0x33, 0x44};
    if (text.size() < 126) {
      frame.push_back(static_cast<char>(0x80 | text.size()));
    } else if (text.size() < 65536) {
      frame.push_back(static_cast<char>(0x80 | 126));
      frame.push_back(static_cast<char>((text.size() >> 8) & 0xFF));
      frame.push_back(static_cast<char>(text.size() & 0xFF));
    } else {
      frame.push_back(static_cast<char>(0x80 | 127));
      for (int i = 7; i >= 0; --i)
        frame.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xFF));
    }
    frame.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < text.size(); ++i)
      frame.push_back(static_cast<char>(text[i] ^ mask[i % 4]));
    send(frame);
  }

  /// Reads one server frame: (opcode, payload); opcode -1 on timeout/EOF.
  std::pair<int, std::string> ws_read(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto need = [&](std::size_t n) {
      while (buffer_.size() < n) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 || !fill(left)) return false;
      }
      return true;
    };
    if (!need(2)) return {-1, {}};
    int opcode = static_cast<unsigned char>(buffer_[0]) & 0x0F;
    std::size_t length = static_cast<unsigned char>(buffer_[1]) & 0x7F;
    std::size_t header = 2;
    if (length == 126) {
      if (!need(4)) return {-1, {}};
      length =
          (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      header = 4;
    } else if (length == 127) {
      if (!need(10)) return {-1, {}};
      length = 0;
      for (int i = 0; i < 8; ++i)
        length = (length << 8) | static_cast<unsigned char>(buffer_[2 + i]);
      header = 10;
    }
    if (!need(header + length)) return {-1, {}};
    std::string payload = buffer_.substr(header, length);
    buffer_.erase(0, header + length);
    return {opcode, payload};
  }

 private:
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

inline std::optional<HttpReply> request(int port, const std::string& raw, bool head = false) {
  Connection connection(port);
  connection.send(raw);
  return connection.read_reply(head);
}

inline std::string get(const std::string& path, const std::string& extra_headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers + "\r\n";
}

}  // namespace http_test
