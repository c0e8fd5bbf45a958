// The parts of envelope selection that need a Service (kept apart so that the envelope
// codecs build without the runtime, e.g. in the fuzz targets).
#include <tomodachi/envelope.hpp>
#include <tomodachi/service.hpp>

namespace tomodachi {

EnvelopeSender EnvelopeSender::of(const Service& service) {
  return EnvelopeSender{service.name(), service.uuid(), std::nullopt};
}

std::shared_ptr<const Envelope> resolve_envelope(const EnvelopeOverride& choice,
                                                 const Service& service) {
  return resolve_envelope(choice, service.message_envelope);
}

}  // namespace tomodachi
