#pragma once
// AMQP names exactly as Python tomodachi builds them (spec/wire.md §2.3, §2.4): routing-key
// encoding, prefixes, queue names, x-expires. Pure functions; the public forms are in
// <tomodachi/amqp.hpp> (namespace tomodachi::amqp_names).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tomodachi::amqp_impl {

/// Replaces every code point outside the allowed set by `___<hex of its UTF-8 bytes>_`.
/// Bytes that are not valid UTF-8 are encoded one by one (Python strings cannot hold them).
std::string encode_routing_key(std::string_view routing_key);

/// Inverse of encode_routing_key; throws tomodachi::ArgumentError when a group decodes to
/// invalid UTF-8 (as Python's `bytes.decode` raises).
std::string decode_routing_key(std::string_view encoded);

/// `prefix + routing_key`, where `prefix_override` (a publish call's `routing_key_prefix`)
/// replaces the option when given; an empty override disables the prefix.
std::string prefixed_routing_key(std::string_view routing_key, std::string_view option_prefix,
                                 const std::optional<std::string>& prefix_override = std::nullopt);

/// The routing key on the wire: encode(prefix + routing_key).
std::string wire_routing_key(std::string_view routing_key, std::string_view option_prefix,
                             const std::optional<std::string>& prefix_override = std::nullopt);

/// Strips `prefix` from a routing key when it starts with it.
std::string routing_key_without_prefix(std::string_view routing_key, std::string_view prefix);

/// Upstream `AmqpTransport.get_queue_name`: sha256hex(encoded_routing_key) for competing
/// queues, else sha256hex(encoded_routing_key + function_name + service_uuid), then the prefix.
std::string hashed_queue_name(std::string_view encoded_routing_key, std::string_view function_name,
                              std::string_view service_uuid, bool competing,
                              std::string_view queue_name_prefix);

/// `competing` as upstream resolves it: unspecified means true with an explicit queue name
/// and false (a per-instance queue) without one (the default-competing discrepancy, §2.4).
bool resolve_competing(std::optional<bool> competing, bool has_queue_name);

/// The queue of one subscription: prefix + explicit name, or the hashed name of the
/// unprefixed, encoded routing key.
std::string subscription_queue_name(std::string_view routing_key, std::string_view function_name,
                                    std::string_view service_uuid, std::optional<bool> competing,
                                    const std::optional<std::string>& queue_name,
                                    std::string_view queue_name_prefix);

/// `int(queue_ttl * 1000)`; nullopt when the ttl is 0 (no `x-expires` argument).
std::optional<std::int64_t> x_expires_ms(double queue_ttl_seconds);

}  // namespace tomodachi::amqp_impl
