# Compile definitions shared by the library and every service compiled against it.
# They are part of the ABI tag (src/core/registry.cpp, src/cli/abi_section.cpp) and of the flags `tomodachi run`
# records for compiling service files.
set(TOMODACHI_PUBLIC_DEFINITIONS
    BOOST_ASIO_SEPARATE_COMPILATION
    # Beast is compiled once into the library (src/http/beast_impl.cpp); code that includes
    # Beast headers next to it must use those definitions, or two copies of its error
    # categories exist and error codes stop comparing equal.
    BOOST_BEAST_SEPARATE_COMPILATION
    BOOST_ASIO_NO_DEPRECATED
    BOOST_JSON_NO_LIB
    BOOST_URL_NO_LIB)

add_library(tomodachi_warnings INTERFACE)
target_compile_options(tomodachi_warnings INTERFACE
    -Wall -Wextra -Werror -Wno-missing-field-initializers)

if(TOMODACHI_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
                      # GCC 12 reports false positives in std::regex and Asio under sanitizers
                      -Wno-error=maybe-uninitialized
                      # ... and pairs Asio's aligned_alloc'd coroutine frames with their sized
                      # operator delete once both are inlined at -O1 (ASan checks the real pairs)
                      -Wno-mismatched-new-delete)
  add_link_options(-fsanitize=address,undefined)
  list(APPEND TOMODACHI_PUBLIC_DEFINITIONS TOMODACHI_SANITIZE=1)
endif()
