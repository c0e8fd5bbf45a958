#include "envelope/sns_sqs_codec.hpp"

#include "sns_sqs_message.pb.h"

namespace tomodachi::envelope_impl {

std::string serialize_outer(const OuterMessage& message) {
  ::proto::SNSSQSMessage outer;
  outer.mutable_service()->set_name(message.service_name);
  outer.mutable_service()->set_uuid(message.service_uuid);
  ::proto::Metadata& metadata = *outer.mutable_metadata();
  metadata.set_message_uuid(message.message_uuid);
  metadata.set_protocol_version(message.protocol_version);
  metadata.set_timestamp(message.timestamp);
  metadata.set_topic(message.topic);
  metadata.set_data_encoding(message.data_encoding);
  outer.set_data(message.data);
  return outer.SerializeAsString();
}

bool parse_outer(std::string_view bytes, OuterMessage& message) {
  ::proto::SNSSQSMessage outer;
  if (!outer.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  message.service_name = outer.service().name();
  message.service_uuid = outer.service().uuid();
  message.message_uuid = outer.metadata().message_uuid();
  message.protocol_version = outer.metadata().protocol_version();
  message.timestamp = outer.metadata().timestamp();
  message.topic = outer.metadata().topic();
  message.data_encoding = outer.metadata().data_encoding();
  message.data = outer.data();
  return true;
}

}  // namespace tomodachi::envelope_impl
