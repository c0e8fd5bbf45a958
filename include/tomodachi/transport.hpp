#pragma once
/// @file
/// Transitional. The transport-writer API (`TransportInstance`, `register_transport`,
/// `on_process_stop`, `TransportFactory`) moved to <tomodachi/transport/transport.hpp>;
/// the registration record `HandlerSpec` lives in <tomodachi/detail/handler_spec.hpp>.
/// This header only forwards the latter while <tomodachi/http.hpp> still includes it, so
/// that <tomodachi/tomodachi.hpp> does not reach the transport-writer API. Include
/// <tomodachi/transport/transport.hpp> in a transport.

#include <tomodachi/detail/handler_spec.hpp>
