#pragma once
/// @file
/// Deprecated path, kept for one release: the transport-writer API (`TransportInstance`,
/// `register_transport`, `on_process_stop`, `TransportFactory`) lives in
/// <tomodachi/transport/transport.hpp>. Include that header in a transport; a service never
/// needs either (<tomodachi/tomodachi.hpp> does not include them).

#include <tomodachi/transport/transport.hpp>
