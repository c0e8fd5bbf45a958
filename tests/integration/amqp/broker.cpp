#include "broker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace amqp_test {
namespace {

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream stream(text);
  while (std::getline(stream, field, separator)) out.push_back(field);
  return out;
}

}  // namespace

std::optional<Broker> Broker::from_env() {
  const char* peers = std::getenv("TOMODACHI_TEST_PEERS_DIR");
  const char* source = std::getenv("TOMODACHI_SOURCE_DIR");
  if (!peers || !source) return std::nullopt;
  std::ifstream env(std::string(peers) + "/rabbitmq/env");
  if (!env)
    throw std::runtime_error(std::string("no test RabbitMQ in ") + peers +
                             " (ctest fixture rabbitmq)");
  Broker broker;
  broker.peers_dir = peers;
  broker.source_dir = source;
  std::string line;
  while (std::getline(env, line)) {
    const auto equals = line.find('=');
    if (equals == std::string::npos) continue;
    const std::string key = line.substr(0, equals), value = line.substr(equals + 1);
    if (key == "TOMODACHI_TEST_AMQP_HOST") broker.host = value;
    if (key == "TOMODACHI_TEST_AMQP_PORT") broker.port = std::stoi(value);
  }
  if (broker.port == 0) return std::nullopt;
  return broker;
}

std::string Broker::ctl(const std::string& arguments) const {
  const std::string command = shell_quote(source_dir + "/scripts/test-peers/rabbitmq.sh") +
                              " ctl " + shell_quote(peers_dir) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string output;
  std::array<char, 4096> buffer;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error("rabbitmqctl " + arguments + " failed: " + output);
  return output;
}

std::map<std::string, std::vector<std::string>> Broker::queues(const std::string& columns) const {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& line : split(ctl("-q --no-table-headers list_queues name " + columns), '\n')) {
    auto fields = split(line, '\t');
    if (fields.empty()) continue;
    const std::string name = fields.front();
    fields.erase(fields.begin());
    out[name] = fields;
  }
  return out;
}

std::vector<std::vector<std::string>> Broker::bindings() const {
  std::vector<std::vector<std::string>> out;
  for (const auto& line :
       split(ctl("-q --no-table-headers list_bindings source_name destination_name routing_key"),
             '\n')) {
    if (!line.empty()) out.push_back(split(line, '\t'));
  }
  return out;
}

void Broker::restart_app() const {
  ctl("stop_app");
  ctl("start_app");
}

std::string unique(const std::string& prefix) {
  static std::mt19937_64 random{std::random_device{}()};
  return prefix + "-" + std::to_string(random() % 1000000000);
}

bool run_until(boost::asio::io_context& io, const std::function<bool()>& predicate,
               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  return true;
}

TcpProxy::TcpProxy(std::string target_host, int target_port)
    : host_(std::move(target_host)), target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("proxy cannot listen");
  }
  socklen_t length = sizeof(address);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  for (auto& pump : pumps_) pump.join();
  ::close(listen_fd_);
}

void TcpProxy::cut() { ++cut_generation_; }

void TcpProxy::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(target_port_));
    ::inet_pton(AF_INET, host_.c_str(), &address.sin_addr);
    if (::connect(upstream, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(client);
      ::close(upstream);
      continue;
    }
    const int generation = cut_generation_;
    pumps_.emplace_back([this, client, upstream, generation] {
      std::array<char, 65536> buffer;
      while (!stopping_ && cut_generation_ == generation) {
        if (frozen_) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        std::array<pollfd, 2> fds{pollfd{client, POLLIN, 0}, pollfd{upstream, POLLIN, 0}};
        if (::poll(fds.data(), 2, 50) <= 0) continue;
        bool closed = false;
        for (int i = 0; i < 2 && !closed; ++i) {
          if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          const ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
          if (n <= 0) {
            closed = true;
            break;
          }
          const int to = i == 0 ? upstream : client;
          for (ssize_t sent = 0; sent < n;) {
            const ssize_t w = ::send(to, buffer.data() + sent, n - sent, MSG_NOSIGNAL);
            if (w <= 0) {
              closed = true;
              break;
            }
            sent += w;
          }
        }
        if (closed) break;
      }
      ::close(client);
      ::close(upstream);
    });
  }
}

}  // namespace amqp_test
