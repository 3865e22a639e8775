# SPDX-License-Identifier: Apache-2.0
#
# Sluice: one non-recursive GNU Makefile for every binary, test and tool.
#
# Sources are discovered by directory (lib/, store/ and its subsystem folders,
# agent/ and its folders, plugins/*/, cli/,
# tests/unit/test_*.c, tests/fuzz/fuzz_*.c), so adding a module never means
# editing this file.  `make asan` re-invokes this same Makefile with a
# different build directory and sanitizer flags; nothing here recurses into
# subdirectories.
#
#   make            build/bin/{sluice-store,sluice-agent,sluice}
#   make test       deps + build + lint + unit + integration + the Kafka client
#                   matrix check (scripts/kafka_matrix.py) + short fuzz pass
#   make lint       house rules: scripts/lint.py (layering, file and function
#                   sizes), then clang-format --dry-run (FORMAT_CHECK=0 skips it)
#   make format     clang-format -i over the tracked C sources and headers
#   make asan       the same unit and integration tests under ASan+UBSan
#   make fuzz       longer libFuzzer runs (FUZZ_SECONDS per target)
#   make bench      benchmarks under bench/ (figures go to bench/RESULTS.md)
#   make demo       deps + build + store and agent on sample logs
#   make deb        Debian packages from packaging/debian
#   V=1             show the commands

BUILD   ?= build
SAN     ?=
V       ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif

CC      ?= gcc
ifeq ($(origin CC),default)
CC      := gcc
endif
CLANG   ?= clang

WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wvla
OPT     ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -I. -MMD -MP
CFLAGS  += $(WARN) $(OPT) -fno-strict-aliasing -pthread
LDFLAGS += -pthread

# SLUICE_DEBUG compiles in SLUICE_ASSERT (lib/check.h): ASan and fuzz builds.
ifeq ($(SAN),1)
CPPFLAGS += -DSLUICE_DEBUG
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Libraries per binary (Debian multiarch paths; no pkg-config at parse time so
# that `make deps` can run before any -dev package is installed).
LIB_LIBS   := -lyaml -lzstd -lz -llz4 -lsnappy -lm
STORE_LIBS := -lmicrohttpd -lgnutls -lssl -lcrypto -lsystemd -lpcre2-8 $(LIB_LIBS)
# sluice-agent loads libcurl, librdkafka, libsystemd, snappy and LZ4 when a
# configured plugin first calls them (agent/dl/dl.h): an agent maps only what
# its configuration uses.  Tests link the real libraries instead.
AGENT_LIBS := -lpcre2-8 -lyaml -lzstd -lz -lm
CLI_LIBS   := -lcurl -lrdkafka -lpcre2-8 $(LIB_LIBS)
TEST_LIBS  := -lcunit -lmicrohttpd -lgnutls -lssl -lcrypto -lcurl -lsystemd -lrdkafka -lpcre2-8 $(LIB_LIBS)

LIB_SRC    := $(wildcard lib/*.c)
STORE_SRC  := $(filter-out store/main.c,$(wildcard store/*.c store/*/*.c))
AGENT_SRC  := $(filter-out agent/main.c agent/dl/%,$(wildcard agent/*.c agent/*/*.c)) \
              $(wildcard plugins/*/*.c)
AGENT_DL   := $(wildcard agent/dl/*.c)
CLI_SRC    := $(filter-out cli/main.c,$(wildcard cli/*.c))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC  := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

# Product code (not tests) is compiled with lib/banned.h force-included, so a
# call to strcpy, sprintf, atoi, strerror, ... fails to compile.
PRODUCT_SRC := $(LIB_SRC) $(STORE_SRC) $(AGENT_SRC) $(AGENT_DL) $(CLI_SRC) \
               store/main.c agent/main.c cli/main.c
BANNED  := -include lib/banned.h
$(call obj,$(PRODUCT_SRC)): CPPFLAGS += $(BANNED)
# Fallible lib/ functions are SLUICE_MUST_CHECK (lib/check.h); product code
# handles every result.  Test and benchmark set-up code may ignore them: a
# failed set-up step shows as a failed assertion after it.
TEST_NOCHECK := -Wno-unused-result
$(call obj,$(UNIT_SRC) $(BENCH_SRC)): CFLAGS += $(TEST_NOCHECK)

LIB_A   := $(BUILD)/libsluice.a
STORE_A := $(BUILD)/libstore.a
AGENT_A := $(BUILD)/libagent.a
CLI_A   := $(BUILD)/libcli.a
BIN     := $(BUILD)/bin
BINS    := $(BIN)/sluice-store $(BIN)/sluice-agent $(BIN)/sluice
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps test check lint format gen unit integration fuzz-short fuzz asan bench demo deb clean
.DEFAULT_GOAL := all
# keep objects of pattern-built programs (tests, fuzzers) between runs
.SECONDARY:

all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB_A): $(call obj,$(LIB_SRC))
$(STORE_A): $(call obj,$(STORE_SRC))
$(AGENT_A): $(call obj,$(AGENT_SRC))
$(CLI_A): $(call obj,$(CLI_SRC))
$(BUILD)/%.a:
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/sluice-store: $(call obj,store/main.c) $(STORE_A) $(LIB_A)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(STORE_LIBS)

$(BIN)/sluice-agent: $(call obj,agent/main.c) $(call obj,$(AGENT_DL)) $(AGENT_A) $(LIB_A)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS)

$(BIN)/sluice: $(call obj,cli/main.c) $(CLI_A) $(LIB_A)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CLI_LIBS)

# Unit tests link every module archive; the linker pulls only what a test uses.
$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(AGENT_A) $(STORE_A) $(CLI_A) $(LIB_A)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

# The agent's own sd_notify()/sd_watchdog_enabled() ahead of libsystemd's.
$(BUILD)/tests/test_dl_systemd: $(call obj,tests/unit/test_dl_systemd.c) \
		$(call obj,agent/dl/dl_systemd.c agent/dl/dl.c) $(LIB_A)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/bench/%: $(call obj,bench/%.c) $(AGENT_A) $(STORE_A) $(LIB_A)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

# ---------------------------------------------------------------- fuzzing
# libFuzzer needs clang; the fuzz build compiles every non-main source again
# with -fsanitize=fuzzer-no-link so coverage reaches into the parsers.
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=c11 -DSLUICE_DEBUG -Wall -Wextra -Werror -Wno-unused-command-line-argument \
               -O1 -g -fno-omit-frame-pointer -pthread \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRC) $(STORE_SRC) $(AGENT_SRC) $(CLI_SRC))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRC))
$(FUZZ_OBJ): FUZZ_PRODUCT := $(BANNED)
$(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_SRC)): FUZZ_PRODUCT := $(TEST_NOCHECK)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $<")
	$(Q)$(CLANG) -D_GNU_SOURCE -I. -MMD -MP $(FUZZ_CFLAGS) $(FUZZ_PRODUCT) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libfuzzall.a: $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/libfuzzall.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(TEST_LIBS)

# ---------------------------------------------------------------- tests
FUZZ_SHORT_SECONDS ?= total:16
FUZZ_SECONDS ?= 300
UNIT_TIMEOUT ?= 300

deps:
	$(Q)scripts/deps.sh

# `make check` is the quick loop (lint, unit, and the integration tests tagged
# `# harness: quick`); `make test` is everything.  One step at a time: unit
# tests and integration (which runs two tests at a time, see
# tests/integration/run.sh) are never both at once on a 2-core machine.
.PHONY: lint format integration-quick kafka-matrix
check:
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all $(UNIT_BINS)
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory integration-quick

# ---------------------------------------------------------------- lint
# Banned functions are refused by the compiler (lib/banned.h).  The format
# check is the last step; FORMAT_CHECK=0 skips it (until the tree has been
# formatted once with `make format`).
CLANG_FORMAT ?= clang-format
FORMAT_CHECK ?= 1
# store/kafka/kmsg_gen.{h,c} are generated (scripts/kgen.py): not formatted
KGEN_OUT  := store/kafka/kmsg_gen.h store/kafka/kmsg_gen.c
C_TRACKED = $(filter-out $(KGEN_OUT),$(shell git ls-files '*.c' '*.h'))

lint:
	$(Q)scripts/lint.py
ifeq ($(FORMAT_CHECK),1)
	$(Q)$(CLANG_FORMAT) --dry-run -Werror $(C_TRACKED)
endif

format:
	$(Q)$(CLANG_FORMAT) -i $(C_TRACKED)

# Kafka message structs and field tables from the JSON specs in store/kafka/schema/;
# `make lint` fails when the committed output is stale.
.PHONY: gen
gen:
	$(Q)scripts/kgen.py

unit: $(UNIT_BINS)
	$(Q)scripts/run-unit.sh $(UNIT_TIMEOUT) $(UNIT_BINS)

integration: $(BINS)
	$(Q)SLUICE_BIN=$(abspath $(BIN)) SLUICE_SAN=$(SAN) tests/integration/run.sh

# the client compatibility matrix in docs/KAFKA.md must match what the client
# tests recorded in this run (the runner empties $(BUILD)/compat first);
# scripts/kafka_matrix.py --write rewrites it
kafka-matrix:
	$(Q)SLUICE_COMPAT_DIR=$(abspath $(BUILD))/compat scripts/kafka_matrix.py

integration-quick: $(BINS)
	$(Q)SLUICE_BIN=$(abspath $(BIN)) SLUICE_SAN=$(SAN) TIER=quick tests/integration/run.sh

fuzz-short: $(FUZZ_BINS)
	$(Q)scripts/run-fuzz.sh $(FUZZ_SHORT_SECONDS) $(FUZZ_BINS)

fuzz: deps $(FUZZ_BINS)
	$(Q)scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# the build uses every core (CI calls plain `make test`); the test steps
# after it schedule themselves
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# Each step prints how long it took (`make test: <step> Ns`), for CI logs.
STEP = t0=$$(date +%s); $(1); rc=$$?; echo "make test: $(2) $$(( $$(date +%s) - t0 ))s"; \
	[ $$rc -eq 0 ]

.PHONY: test-deps
test-deps:
	$(Q)scripts/test-deps.sh

# The Go and Python test clients build in the background (nice 5) from the
# start: the unit tests and the integration tests mostly wait on timers and
# daemons, and the tests that need a client run scripts/test-deps.sh again,
# which waits for the build (a lock) and then finds it done (its log:
# build/test-deps.log).  The fuzz targets (a second build of every source,
# with clang's sanitizers) build in the background at nice 5 once the
# product and the unit tests are built, beside lint and the unit tests; the
# short fuzz pass then runs beside the integration tests at nice 19, on
# what CPU they leave.  Its log follows their report (make test waits for
# it; a fuzz build error fails the run there).
test:
	$(Q)$(call STEP,SLUICE_TEST_DEPS=later scripts/deps.sh,deps)
	$(Q)mkdir -p build && (nice -n 5 scripts/test-deps.sh >build/test-deps.log 2>&1 &)
	$(Q)$(call STEP,$(MAKE) --no-print-directory -j$(JOBS) all $(UNIT_BINS),build)
	$(Q)rm -f $(BUILD)/fuzz-short.rc; ( (nice -n 5 $(MAKE) --no-print-directory -j$(JOBS) \
		$(FUZZ_BINS) && nice -n 19 $(MAKE) --no-print-directory fuzz-short) \
		>$(BUILD)/fuzz-short.log 2>&1; echo $$? >$(BUILD)/fuzz-short.rc) &
	$(Q)$(call STEP,$(MAKE) --no-print-directory lint,lint)
	$(Q)$(call STEP,$(MAKE) --no-print-directory unit,unit)
	$(Q)$(call STEP,$(MAKE) --no-print-directory integration,integration)
	$(Q)$(call STEP,$(MAKE) --no-print-directory kafka-matrix,kafka-matrix)
	$(Q)$(call STEP,while [ ! -s $(BUILD)/fuzz-short.rc ]; do sleep 1; done,fuzz wait)
	$(Q)cat $(BUILD)/fuzz-short.log; echo "make test: fuzz build + fuzz-short (in the background) exit $$(cat $(BUILD)/fuzz-short.rc)"; \
		[ "$$(cat $(BUILD)/fuzz-short.rc)" = 0 ]

asan: deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT="-O1 -g" unit integration

bench: deps all $(BENCH_BINS)
	$(Q)SLUICE_BIN=$(abspath $(BIN)) SLUICE_BENCH_BIN=$(abspath $(BUILD)/bench) bench/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SLUICE_BIN=$(abspath $(BIN)) scripts/demo.sh

deb: deps
	$(Q)scripts/build-deb.sh

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
