# Thin front-end to CMake (DuckDB style). Every target installs what it needs first, so a
# fresh Debian 12 machine needs nothing but `make run` or `make test`.
JOBS ?= $(shell nproc)
RELEASE_DIR := build/release
ASAN_DIR := build/asan

.PHONY: all deps release asan test unit-test run bench format format-check clean fields package

all: release

deps:
	@scripts/install-deps.sh

# Configure once (presets in CMakePresets.json); ninja re-runs CMake itself when a
# CMakeLists.txt changes. deps is order-only so it never forces a reconfigure.
$(RELEASE_DIR)/build.ninja: | deps
	cmake --preset release

$(ASAN_DIR)/build.ninja: | deps
	cmake --preset asan

release: $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS)

asan: $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR) -j $(JOBS)

# Every test, in the release build and again under ASan+UBSan; formatting is checked first.
test: format-check release asan
	ctest --test-dir $(RELEASE_DIR) --output-on-failure -j $(JOBS) --timeout 600
	ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS) --timeout 900

unit-test: release
	ctest --test-dir $(RELEASE_DIR) --output-on-failure -L unit

# The main job on the bundled sample, with the shipped configuration.
run: release
	scripts/run-sample.sh $(RELEASE_DIR)

# Throughput and memory (SPEC §13) on the benchmark capture of ../shared/lab/README.md.
bench: release
	/usr/bin/python3 bench/run.py

fields: release
	cmake --build $(RELEASE_DIR) --target fields

package: release
	cd $(RELEASE_DIR) && cpack -G DEB

SOURCES = find beat outputs tests bench \( -name '*.cpp' -o -name '*.h' \) -print

format: deps
	$(SOURCES) | xargs clang-format -i

format-check: deps
	$(SOURCES) | xargs clang-format --dry-run --Werror

clean:
	rm -rf build
