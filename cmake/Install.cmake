# `cmake --install`: headers, library, CLI, its toolchain description, a CMake package
# (find_package(tomodachi) → tomodachi::tomodachi) and a pkg-config file.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tomodachi DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/tomodachi/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tomodachi)
install(TARGETS tomodachi EXPORT tomodachiTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS tomodachi_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_BINARY_DIR}/install-share/toolchain.json DESTINATION ${CMAKE_INSTALL_DATADIR}/tomodachi)

set(TOMODACHI_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tomodachi)
install(EXPORT tomodachiTargets NAMESPACE tomodachi:: DESTINATION ${TOMODACHI_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tomodachiConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tomodachiConfig.cmake INSTALL_DESTINATION ${TOMODACHI_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tomodachiConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tomodachiConfig.cmake ${PROJECT_BINARY_DIR}/tomodachiConfigVersion.cmake
        DESTINATION ${TOMODACHI_CMAKE_DIR})

set(_pc_defs "")
foreach(def ${TOMODACHI_PUBLIC_DEFINITIONS})
  string(APPEND _pc_defs " -D${def}")
endforeach()
set(TOMODACHI_PC_CFLAGS "-std=c++20 -pthread${_pc_defs}")
set(TOMODACHI_PC_LIBS "")
if(TOMODACHI_SANITIZE)  # a sanitized library needs the sanitizer runtimes in every program
  string(APPEND TOMODACHI_PC_CFLAGS " -fsanitize=address,undefined")
  set(TOMODACHI_PC_LIBS " -fsanitize=address,undefined")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/tomodachi.pc.in ${PROJECT_BINARY_DIR}/tomodachi.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tomodachi.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
