#pragma once
// The transport kinds known to the runtime (register_transport).

#include <tomodachi/transport/transport.hpp>

#include <optional>
#include <string_view>

namespace tomodachi::detail {

/// The factory of `kind`, or nullopt when no transport of that kind is registered.
std::optional<TransportFactory> find_transport(std::string_view kind);

}  // namespace tomodachi::detail
