// The one translation unit that compiles Asio's non-template code
// (BOOST_ASIO_SEPARATE_COMPILATION): service code links against it.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
