# A thin wrapper over CMake (as neovim does): `make run` and `make test` are all a newcomer needs.
BUILD_DIR    ?= build
BUILD_TYPE   ?= RelWithDebInfo
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)
HARNESS       = $(BUILD_DIR)/bin/refund-harness
PROGRAMS      = refund-harness oms-reference mock-omnitron mock-webhook
CMAKE_ARGS   ?=
FUZZ_SECONDS ?= 60

.PHONY: all deps test-deps fuzz-deps configure build programs run test sanitize memcheck coverage fuzz format format-check check-src package clean

all: build

deps:
	@scripts/install-deps

test-deps:
	@scripts/install-deps --test

fuzz-deps: deps
	@scripts/install-deps --fuzz

configure: deps
	@if [ ! -f $(BUILD_DIR)/CMakeCache.txt ]; then \
	  cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS) >/dev/null; fi

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) -- --no-print-directory -s

# Only the four programs: what `make run` needs, without compiling the tests.
programs: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target $(PROGRAMS) -- --no-print-directory -s

# The bundled suite against the embedded reference implementation, one sandbox per core (the
# verdicts do not depend on it); reports land in reports/.
run: programs
	@$(HARNESS) run scenarios --report-dir reports --jobs $(JOBS)

# Unit tests, integration tests and the scenario suite, through ctest.
test: test-deps build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The same tests built with AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: test-deps
	@$(MAKE) --no-print-directory test BUILD_DIR=build-asan BUILD_TYPE=Debug CMAKE_ARGS=-DSANITIZE=ON

# The in-process tests and the bundled suite under valgrind (invalid accesses and leaks fail).
memcheck: test-deps build
	@scripts/memcheck $(BUILD_DIR)

# Line coverage of the tests (built in build-coverage/), as HTML under build/coverage/.
coverage: test-deps
	@$(MAKE) --no-print-directory test BUILD_DIR=build-coverage BUILD_TYPE=Debug CMAKE_ARGS=-DCOVERAGE=ON
	@mkdir -p $(BUILD_DIR)/coverage
	@gcovr -r . --object-directory build-coverage -e tests/ -e bench/ \
	  --html-details $(BUILD_DIR)/coverage/index.html --print-summary

# The libFuzzer targets of tests/fuzz/, built with clang in build-fuzz/, each run FUZZ_SECONDS
# (default 60); exits non-zero on a finding, whose input is kept in build-fuzz/artifacts/.
fuzz: fuzz-deps
	@tests/fuzz/run $(FUZZ_SECONDS)

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

# The house rules a compiler does not check (scripts/checksrc; curl's checksrc.pl is the model).
check-src:
	@scripts/checksrc

# A .deb of the programs, the bundled data, the docs and the man page (CPack; build/*.deb).
package: build
	@cd $(BUILD_DIR) && cpack -G DEB

clean:
	@rm -rf build build-asan build-coverage build-fuzz
