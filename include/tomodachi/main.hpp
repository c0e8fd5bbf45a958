#pragma once
/// @file
/// Service registration (`TOMODACHI_SERVICE`) and the entry point for services linked
/// into their own binary (`TOMODACHI_MAIN`).

#include <tomodachi/service.hpp>
#include <tomodachi/version.hpp>

#include <memory>

/// What a service shared object and the library must agree on to be loaded together:
/// library version, C++ standard library (its release, not the compiler: GCC and Clang
/// with the same libstdc++ share the Itanium C++ ABI, so `TOMODACHI_CXX=clang++-15` builds
/// services for a GCC-built library), language level and ABI-relevant macros.
#define TOMODACHI_DETAIL_STR2(x) #x
#define TOMODACHI_DETAIL_STR(x) TOMODACHI_DETAIL_STR2(x)
#if defined(__GLIBCXX__)
#define TOMODACHI_DETAIL_ABI_STDLIB "libstdc++ " TOMODACHI_DETAIL_STR(__GLIBCXX__)
#elif defined(_LIBCPP_VERSION)
#define TOMODACHI_DETAIL_ABI_STDLIB "libc++ " TOMODACHI_DETAIL_STR(_LIBCPP_VERSION)
#else
#define TOMODACHI_DETAIL_ABI_STDLIB "another C++ standard library"
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TOMODACHI_DETAIL_ABI_ASAN "+asan"
#else
#define TOMODACHI_DETAIL_ABI_ASAN ""
#endif
#if defined(_GLIBCXX_DEBUG)
#define TOMODACHI_DETAIL_ABI_DEBUG "+glibcxx-debug"
#else
#define TOMODACHI_DETAIL_ABI_DEBUG ""
#endif
#if defined(BOOST_ASIO_SEPARATE_COMPILATION)
#define TOMODACHI_DETAIL_ABI_ASIO "+asio-separate"
#else
#define TOMODACHI_DETAIL_ABI_ASIO ""
#endif
#if defined(BOOST_BEAST_SEPARATE_COMPILATION)
#define TOMODACHI_DETAIL_ABI_BEAST "+beast-separate"
#else
#define TOMODACHI_DETAIL_ABI_BEAST ""
#endif
#define TOMODACHI_ABI_TAG                                                          \
  "tomodachi " TOMODACHI_VERSION_STRING " | " TOMODACHI_DETAIL_ABI_STDLIB          \
  " | c++" TOMODACHI_DETAIL_STR(__cplusplus) " | cxx11-abi " TOMODACHI_DETAIL_STR( \
      _GLIBCXX_USE_CXX11_ABI) TOMODACHI_DETAIL_ABI_ASAN TOMODACHI_DETAIL_ABI_DEBUG \
      TOMODACHI_DETAIL_ABI_ASIO TOMODACHI_DETAIL_ABI_BEAST

namespace tomodachi {

/// The ABI tag libtomodachi itself was built with.
const char* library_abi_tag() noexcept;

namespace detail {
using ServiceFactory = std::unique_ptr<Service> (*)();

/// Records a service class when its shared object (or binary) is loaded.
struct ServiceRegistrar {
  ServiceRegistrar(const char* class_name, ServiceFactory factory, const char* abi_tag,
                   const char* source_file) noexcept;
};
}  // namespace detail

/// Runs the services linked into this binary with the options of `tomodachi run`
/// (`--production`, `--log-level`, `--logger`, `-c`, ...). Returns the exit status.
int main(int argc, char** argv);

}  // namespace tomodachi

#define TOMODACHI_DETAIL_CONCAT2(a, b) a##b
#define TOMODACHI_DETAIL_CONCAT(a, b) TOMODACHI_DETAIL_CONCAT2(a, b)

/// Registers `Class` (a tomodachi::Service with a default constructor) so that
/// `tomodachi run` starts it. Place it once, after the class, at namespace scope. The
/// ABI tag also goes into the object's `.tomodachi_abi` section, so `tomodachi run` can
/// check it before loading the file.
#define TOMODACHI_SERVICE(Class)                                                            \
  [[gnu::used, gnu::section(".tomodachi_abi")]] static const char TOMODACHI_DETAIL_CONCAT(  \
      tomodachi_abi_tag_, __COUNTER__)[] = TOMODACHI_ABI_TAG;                               \
  static const ::tomodachi::detail::ServiceRegistrar TOMODACHI_DETAIL_CONCAT(               \
      tomodachi_service_registrar_, __COUNTER__)(                                           \
      #Class,                                                                               \
      +[]() -> std::unique_ptr<::tomodachi::Service> { return std::make_unique<Class>(); }, \
      TOMODACHI_ABI_TAG, __FILE__)

/// Defines `main` for a binary that links its services in (instead of `tomodachi run`).
#define TOMODACHI_MAIN() \
  int main(int argc, char** argv) { return ::tomodachi::main(argc, argv); }
