# `cmake --install`: headers, library, CLI, CMake package and pkg-config file.
