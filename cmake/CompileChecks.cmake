# The compiler command line a service file gets (`tomodachi run` compiles with the same
# include directories and definitions), written to a response file for the tests that run
# the compiler themselves: tests/headers (-M of <tomodachi/tomodachi.hpp>) and
# tests/compile_fail (bad service files that must not compile).
function(tomodachi_write_compile_flags out)
  set(lines "-std=c++20" "-I${PROJECT_SOURCE_DIR}/include" "-I${PROJECT_BINARY_DIR}/include")
  foreach(dir IN LISTS Boost_INCLUDE_DIRS)
    if(NOT dir MATCHES "^/usr(/local)?/include/?$")  # the compiler's own: -isystem there breaks #include_next
      list(APPEND lines "-isystem" "${dir}")
    endif()
  endforeach()
  foreach(definition IN LISTS TOMODACHI_PUBLIC_DEFINITIONS)
    list(APPEND lines "-D${definition}")
  endforeach()
  list(APPEND lines "-pthread")
  string(REPLACE ";" "\n" content "${lines}")
  file(GENERATE OUTPUT ${out} CONTENT "${content}\n")
endfunction()
