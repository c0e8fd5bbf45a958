# share/tomodachi/toolchain.json: how `tomodachi run` compiles service files against
# this library (like python3-config). One for the build tree (absolute paths) and one
# for the installed tree (paths relative to the install prefix, "${prefix}").
set(_defs "")
foreach(def ${TOMODACHI_PUBLIC_DEFINITIONS})
  string(APPEND _defs "\"-D${def}\", ")
endforeach()
set(_sanitize_compile "")
set(_sanitize_link "")
if(TOMODACHI_SANITIZE)
  set(_sanitize_compile "\"-fsanitize=address,undefined\", \"-fno-omit-frame-pointer\", ")
  set(_sanitize_link "\"-fsanitize=address,undefined\", ")
endif()

function(tomodachi_write_toolchain path include_dirs lib_dir)
  set(_includes "")
  foreach(dir ${include_dirs})
    string(APPEND _includes "\"-I${dir}\", ")
  endforeach()
  set(_header_dirs "")
  foreach(dir ${include_dirs})
    string(APPEND _header_dirs "\"${dir}\", ")
  endforeach()
  string(REGEX REPLACE ", $" "" _header_dirs "${_header_dirs}")
  file(WRITE ${path} "{
  \"compiler\": \"${CMAKE_CXX_COMPILER}\",
  \"compile_flags\": [\"-std=c++20\", \"-fPIC\", \"-pthread\", ${_sanitize_compile}${_defs}${_includes}\"-fvisibility-inlines-hidden\"],
  \"link_flags\": [${_sanitize_link}\"-L${lib_dir}\", \"-Wl,-rpath,${lib_dir}\", \"-Wl,-z,defs\", \"-ltomodachi\", \"-lboost_json\", \"-lboost_container\", \"-pthread\"],
  \"header_dirs\": [${_header_dirs}]
}
")
endfunction()

tomodachi_write_toolchain(${CMAKE_BINARY_DIR}/share/tomodachi/toolchain.json
  "${PROJECT_SOURCE_DIR}/include;${PROJECT_BINARY_DIR}/include" "${CMAKE_BINARY_DIR}/lib")
tomodachi_write_toolchain(${CMAKE_BINARY_DIR}/install-share/toolchain.json
  "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}" "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
