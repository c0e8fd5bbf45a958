#pragma once
// The outer `proto.SNSSQSMessage` of ProtobufBase as plain fields. The generated protobuf
// code stays inside sns_sqs_codec.cpp, compiled with hidden visibility so that its
// `proto::*` symbols never clash with a service's own copy of upstream's schema.

#include <string>
#include <string_view>

namespace tomodachi::envelope_impl {

struct OuterMessage {
  std::string service_name;
  std::string service_uuid;
  std::string message_uuid;
  std::string protocol_version;
  double timestamp = 0.0;
  std::string topic;
  std::string data_encoding;
  std::string data;
};

/// Canonical proto3 serialization (fields in number order, defaults omitted).
std::string serialize_outer(const OuterMessage& message);

/// False when `bytes` is not a valid SNSSQSMessage.
bool parse_outer(std::string_view bytes, OuterMessage& message);

}  // namespace tomodachi::envelope_impl
