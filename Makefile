# The two commands a new user needs:
#   make run    install what is missing, build, start examples/http_service.cpp
#   make test   install what is missing, build, run the whole test suite (ctest)
# More: make build | debug | test-debug | test-asan | install [PREFIX=/usr/local] | fuzz | bench | image | clean

PREFIX ?= /usr/local
CTEST_ARGS ?=

# A clone in any folder reuses the compiler cache of another clone.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime,locale
export CCACHE_MAXSIZE ?= 5G

.PHONY: all deps test-deps build debug run test test-debug test-asan install fuzz bench image clean

all: build

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh test

build/build.ninja: CMakeLists.txt CMakePresets.json | deps
	cmake --preset dev

build: deps build/build.ninja
	cmake --build --preset dev

# -O0 with TOMODACHI_ASSERT active (no -DNDEBUG), in build-debug/.
debug: deps
	cmake --preset debug
	cmake --build --preset debug

run: build
	build/bin/tomodachi run examples/http_service.cpp

# Configure again after installing the test packages: a tree first configured by
# `make build` has no test suite yet.
test: test-deps
	cmake --preset dev
	cmake --build --preset dev
	ctest --preset dev $(CTEST_ARGS)

test-debug: test-deps
	cmake --preset debug
	cmake --build --preset debug
	ctest --preset debug $(CTEST_ARGS)

test-asan: test-deps
	cmake --preset asan
	cmake --build --preset asan
	ctest --preset asan $(CTEST_ARGS)

install: build
	cmake --install build --prefix $(PREFIX)

fuzz: deps
	@scripts/install-deps.sh fuzz
	scripts/fuzz.sh

bench: test-deps build
	scripts/bench.sh

# The examples/docker image with podman, base made by debootstrap (not part of make test).
image:
	@scripts/install-deps.sh image
	scripts/build-image.sh

clean:
	rm -rf build build-debug build-asan build-fuzz
