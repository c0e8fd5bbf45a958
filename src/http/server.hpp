#pragma once
// The HTTP transport instance of one service (Beast HTTP/1.1 + websocket server on the
// service loop). Beast stays inside src/http: this header does not include it.

#include <tomodachi/http.hpp>
#include <tomodachi/transport/transport.hpp>

#include <memory>
#include <vector>

namespace tomodachi::http_impl {

class ServerCore;

class HttpTransport final : public TransportInstance {
 public:
  HttpTransport(Service& service, std::vector<const detail::HttpSpec*> specs);
  ~HttpTransport() override;

  Task<void> setup() override;
  Task<void> start() override;
  void stop_requested() noexcept override;
  Task<void> stop(Deadline deadline) override;

  /// The bound port (0 before start).
  int port() const noexcept;

 private:
  std::shared_ptr<ServerCore> core_;
};

/// Creates the transport instance (the factory registered for detail::HttpSpec).
std::unique_ptr<TransportInstance> make_http_transport(Service& service,
                                                       std::vector<const detail::HttpSpec*> specs);

}  // namespace tomodachi::http_impl
