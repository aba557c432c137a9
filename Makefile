# The README's commands. Each installs what is missing first (scripts/setup is idempotent).
BUILD_DIR ?= build
# Unity batches of 8 sources: each batch parses the heavy headers (Asio, Beast, CLI11, JSON)
# once instead of 8 times, which halves a clean build (docs/dev/build.md).
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8
JOBS ?= $(shell nproc)
# How many inputs `make test` runs through each fuzz target, from a fixed seed so that the
# gate is repeatable (scripts/fuzz TARGET 10m searches for as long as asked).
FUZZ_RUNS ?= 20000
FUZZ_SEED ?= 1
# The targets `make test` builds with clang and fuzzes. api_request is not among them: its
# clang build is the whole engine again with the sanitizers; ctest replays its seeds and
# regression inputs through a g++ build instead (FuzzReplay.api_request, docs/reliability.md).
FUZZ_IN_TEST ?= manifest,api_body,http_head,carried_stats

.PHONY: all setup build configure ui test demo deb bench format clean

all: build

setup:
	@scripts/setup

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure ui
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The dashboard's page (web/ → $(BUILD_DIR)/ui, served from beside build/lastgood): npm ci
# from the committed lockfile (skipped while node_modules matches it), then vite build
# when a source changed. Running lastgood needs no Node.js; building the page does.
UI_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.js web/package-lock.json
ui: $(BUILD_DIR)/ui/index.html
web/node_modules/.package-lock.json: web/package-lock.json | setup
	@cd web && npm ci --no-audit --no-fund --loglevel=error
$(BUILD_DIR)/ui/index.html: $(UI_SOURCES) web/node_modules/.package-lock.json
	@cd web && LASTGOOD_UI_OUT=$(abspath $(BUILD_DIR))/ui npx vite build --logLevel warn

# The tests mostly wait on processes and sockets (ctest: ~25 s of CPU in ~85 s), so the fuzz
# targets' clang build runs beside them at the lowest priority (nice 19: the tests still get
# the CPU whenever they want it), and only the fuzzing itself comes after.
FUZZ_ENV = FUZZ_BUILD_DIR=$(abspath $(BUILD_DIR))/fuzz FUZZ_SEED=$(FUZZ_SEED)
test: build
	@mkdir -p $(BUILD_DIR)/fuzz; \
	$(FUZZ_ENV) nice -n 19 scripts/fuzz build $(FUZZ_IN_TEST) >$(BUILD_DIR)/fuzz/build.log 2>&1 & fuzz_build=$$!; \
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 300; tests=$$?; \
	if ! wait $$fuzz_build; then cat $(BUILD_DIR)/fuzz/build.log; exit 1; fi; \
	exit $$tests
	@$(FUZZ_ENV) scripts/fuzz $(FUZZ_IN_TEST) $(FUZZ_RUNS)runs
	@BUILD_DIR=$(BUILD_DIR) node --test tests/ui/dashboard.test.mjs

# The demo needs the two binaries, its load generator and the page, not the tests: a
# newcomer's first `make demo` builds a third of what `make build` does.
demo: configure ui
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target lastgood lastgood-sample loadprobe
	@scripts/demo

# The Debian package of what `make build` made (docs/install.md): dpkg-deb, no second compile.
deb: build
	@scripts/deb $(BUILD_DIR)

bench: build
	@LASTGOOD_SETUP_BENCH=1 scripts/setup
	@for b in bench/*/run; do echo "== $$b"; $$b || exit 1; done

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	@rm -rf $(BUILD_DIR)
