#pragma once
/// @file
/// Registration plumbing: the record every `Service` registration (an HTTP route, a
/// subscription, a schedule) produces. The registration templates of the transport
/// headers build them; transports read them (<tomodachi/transport/transport.hpp>).

#include <string>
#include <utility>

namespace tomodachi {

/// One registration (an HTTP route, a subscription, a schedule) of a service.
struct HandlerSpec {
  HandlerSpec(std::string transport_kind, std::string handler_name)
      : transport(std::move(transport_kind)), name(std::move(handler_name)) {}
  virtual ~HandlerSpec() = default;

  std::string transport;  ///< transport kind: "http", "amqp", "aws_sns_sqs", "schedule", ...
  std::string name;       ///< handler function name: queue names, duplicate keys, log fields
};

}  // namespace tomodachi
