// Envelope selection, publish data and raw mode (spec/wire.md §1, §1.3).
#include <tomodachi/envelope.hpp>

#include "envelope/envelope_common.hpp"

namespace tomodachi {

EnvelopeError::~EnvelopeError() = default;
Envelope::~Envelope() = default;

const ProtobufData& PublishData::protobuf() const {
  if (!protobuf_) throw EnvelopeError("publish data is JSON, not a protobuf message");
  return *protobuf_;
}

std::string build_raw_payload(const PublishData& data) {
  if (data.is_protobuf()) {
    throw EnvelopeError("raw mode (no envelope) cannot send protobuf data (" +
                        data.protobuf().type_name + "); set message_envelope to ProtobufBase");
  }
  if (!data.json().is_string()) {
    throw EnvelopeError("raw mode (no envelope) sends strings only, got JSON " +
                        std::string(envelope_impl::kind_name(data.json())) +
                        "; serialize the data or set message_envelope");
  }
  return std::string(data.json().get_string());
}

}  // namespace tomodachi
