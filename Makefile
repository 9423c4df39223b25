# Driveshaft: one Makefile for the master, the worker, the tests and install.
#
#   make            build build/driveshaft and build/driveshaft-worker
#   make check      install missing packages, build, run the unit and the
#                   integration tests, plain and under ASan+UBSan
#   make demo       run the main job end to end on local defaults
#   make bench      driveshaft against the limit of its design (BENCH_QUICK=1)
#   make soak       SOAK_SECONDS (default 600) of load and chaos against a
#                   real gearmand and master; fails unless nothing was lost
#   make fuzz       libFuzzer on the parsers (FUZZ_SECONDS per target)
#   make multihost  two gearmand and two hosts in network namespaces, with
#                   chaos, MULTIHOST_SECONDS of load (root; make soak runs
#                   it too; a short run is part of the integration tests)
#   make mutate     plant the bugs of t/mutants.txt one at a time in a
#                   scratch copy and run the tests that should catch each
#   make install    PREFIX=/usr/local DESTDIR= (contrib/install.sh)
#   make deb        build/driveshaft_VERSION_ARCH.deb (contrib/deb.sh)

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
CFLAGS  ?= -O2 -g
SAN     ?=
VERSION := 0.1.0

PKGS := gearmand libcurl libcjson
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)
# each program links only what it calls: the master no gearman or curl
MASTER_LIBS  = $(shell pkg-config --libs libcjson 2>/dev/null) -lm
WORKER_LIBS  = $(PKG_LIBS)
GEARMAN_LIBS = $(shell pkg-config --libs gearmand 2>/dev/null)
LDFLAGS_ALL  = -Wl,--as-needed

DS_CFLAGS := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. \
	-DDS_VERSION='"$(VERSION)"' -MMD -MP
ifneq ($(SAN),)
DS_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
SAN_LDFLAGS := -fsanitize=address,undefined
endif

COMMON_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard common/*.c config/*.c))
MASTER_OBJ := $(patsubst %.c,$(BUILD)/%.o,\
	$(filter-out master/main.c,$(wildcard master/*.c)))
WORKER_OBJ := $(patsubst %.c,$(BUILD)/%.o,\
	$(filter-out worker/main.c,$(wildcard worker/*.c)))
LIBS_ALL := $(BUILD)/libdsmaster.a $(BUILD)/libdsworker.a \
	$(BUILD)/libdscommon.a
UNIT_SRC := $(wildcard t/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/%)

BINS := $(BUILD)/driveshaft $(BUILD)/driveshaft-worker
TOOLS := $(BUILD)/t/gmclient $(BUILD)/t/soakclient
# a worker that says another version, for t/integration/test_roll.py
TOOLS += $(BUILD)/t/other-version/driveshaft-worker

.PHONY: all check unit unit-bins mutate integration deps demo bench bench-deps install deb clean \
	san-unit san-integration fuzz lint soak multihost

all: $(BINS) $(TOOLS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(DS_CFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libdscommon.a: $(COMMON_OBJ)
$(BUILD)/libdsmaster.a: $(MASTER_OBJ)
$(BUILD)/libdsworker.a: $(WORKER_OBJ)
$(BUILD)/libds%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/driveshaft-worker: $(BUILD)/worker/main.o $(BUILD)/libdsworker.a \
    $(BUILD)/libdscommon.a
	$(CC) $(SAN_LDFLAGS) $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $^ $(WORKER_LIBS)

$(BUILD)/driveshaft: $(BUILD)/master/main.o $(BUILD)/libdsmaster.a \
    $(BUILD)/libdscommon.a
	$(CC) $(SAN_LDFLAGS) $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $^ $(MASTER_LIBS)

# The worker's objects, but its version (worker/version.c, the one file
# that says it) compiled again as OTHER_VERSION: a second build of the
# worker in a second, not forty, without a second tree of objects.
OTHER_VERSION ?= 9.9.9-test
$(BUILD)/t/other-version/version.o: worker/version.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -DDS_VERSION=%,$(DS_CFLAGS)) \
	    -DDS_VERSION='"$(OTHER_VERSION)"' $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/t/other-version/driveshaft-worker: $(BUILD)/worker/main.o \
    $(BUILD)/t/other-version/version.o $(BUILD)/libdsworker.a \
    $(BUILD)/libdscommon.a
	$(CC) $(SAN_LDFLAGS) $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $^ $(WORKER_LIBS)

$(BUILD)/t/gmclient: $(BUILD)/t/gmclient.o $(BUILD)/libdscommon.a
	$(CC) $(SAN_LDFLAGS) $(LDFLAGS_ALL) -o $@ $^ $(GEARMAN_LIBS)

$(BUILD)/t/soakclient: $(BUILD)/t/soakclient.o
	$(CC) $(SAN_LDFLAGS) $(LDFLAGS_ALL) -o $@ $^ $(GEARMAN_LIBS) -lpthread

$(BUILD)/t/test_%: $(BUILD)/t/unit/test_%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)

deps:
	@sh contrib/deps.sh

unit-bins: $(UNIT_BIN)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $(if $(SAN),CK_FORK=no) $$t; done

# Check forks each test by default; under ASan run them in-process so leaks
# are reported against the test that made them.
san-unit:
	$(MAKE) --no-print-directory BUILD=build/san SAN=1 CFLAGS='-O1 -g' unit

integration: all
	python3 t/integration/run.py

# The same integration tests with the master, the workers and the client
# built with ASan+UBSan: a memory error in a real process fails its test.
# Reports also go to files (DS_SAN_REPORTS), so that one of a daemon whose
# standard error is /dev/null fails the run too.
san-integration:
	$(MAKE) --no-print-directory BUILD=build/san SAN=1 CFLAGS='-O1 -g' all
	DS_BUILD=build/san DS_SAN_REPORTS=build/san/reports python3 t/integration/run.py

check: deps
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory san-unit
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory san-integration
	$(MAKE) --no-print-directory soak SOAK_SECONDS=60 MULTIHOST_SECONDS=0

# Static analysis as a habit: cppcheck, shellcheck on every shell script,
# no include or call cycle between the files of master/ (t/cycles.py),
# the build once more under gcc -fanalyzer (warnings are errors; a false
# one is silenced at its line with the reason), and the master linking
# neither libgearman nor libcurl.
SHELL_SCRIPTS := .ci/run $(wildcard contrib/*.sh) contrib/init.d/driveshaft \
	contrib/debian/postinst contrib/debian/postrm contrib/debian/prerm \
	t/fuzz/run.sh
lint:
	cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c11 \
	    --enable=warning,portability,performance -D_GNU_SOURCE \
	    -DDS_VERSION='"lint"' -I. common config master worker
	shellcheck $(SHELL_SCRIPTS)
	shellcheck -s sh contrib/default/driveshaft	# sourced: no #!
	@mkdir -p $(BUILD); python3 t/cycles.py > $(BUILD)/cycles.txt || { cat $(BUILD)/cycles.txt; exit 1; }	# no include or call cycle in master/
	$(MAKE) --no-print-directory BUILD=build/analyzer \
	    CFLAGS='-O1 -g -fanalyzer' build/analyzer/driveshaft \
	    build/analyzer/driveshaft-worker
	@if readelf -d build/analyzer/driveshaft | \
	    grep -E 'NEEDED.*(gearman|curl)'; then \
	    echo "lint: the master links what only the worker needs"; \
	    exit 1; fi
	@echo "lint: clean"

# each mutant's tests in a scratch copy; prints the kill ratio and the
# survivors, fails below MUTATE_MIN (0.9)
mutate: deps
	python3 t/mutate.py

demo: deps all
	bash contrib/demo.sh

# make bench: driveshaft against the limit of its design (contrib/bench/:
# nginx, a C load generator, the limit and floor programs); BENCH_QUICK=1
# is a short run. Installs nginx and valgrind (contrib/deps.sh bench).
BENCH_BINS := $(BUILD)/bench/loadgen $(BUILD)/bench/limit $(BUILD)/bench/floor \
	$(BUILD)/bench/spawnloop
BENCH_LIBS = $(shell pkg-config --libs gearmand libcurl libcjson 2>/dev/null)

$(BUILD)/bench/%: contrib/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE $(PKG_CFLAGS) \
	    $(CFLAGS) -o $@ $< $(BENCH_LIBS) -lpthread

bench-deps:
	@sh contrib/deps.sh bench

# The upgrade step (contrib/bench/fig_upgrade.py) swaps the binaries under
# a running master for this second build: the same tree, another version.
BENCH_UPGRADE_B := $(BUILD)/bench/upgrade-b

bench: deps bench-deps all $(BENCH_BINS)
	$(MAKE) --no-print-directory BUILD=$(BENCH_UPGRADE_B) VERSION=$(VERSION)-b \
	    $(BENCH_UPGRADE_B)/driveshaft $(BENCH_UPGRADE_B)/driveshaft-worker
	python3 contrib/bench/bench.py

# Load and chaos for SOAK_SECONDS against a real gearmand, endpoints and
# master; prints the ledger and fails when a job was lost, answered twice or
# answered wrong, or a process of ours is left behind (t/soak/soak.py).
# SOAK_ARGS: --seed N to replay a run's chaos, --keep to keep its files.
SOAK_SECONDS ?= 600
SOAK_ARGS ?=
# Then the multi-host scenario (t/multihost/, root) for MULTIHOST_SECONDS,
# SOAK_SECONDS by default; 0 skips it (make check: the integration tests
# have run its short version, plain and under ASan).
MULTIHOST_SECONDS ?= $(SOAK_SECONDS)
soak: all
	python3 t/soak/soak.py --seconds $(SOAK_SECONDS) $(SOAK_ARGS)
	@if [ "$(MULTIHOST_SECONDS)" != 0 ]; then \
	    python3 t/multihost/multihost.py --seconds $(MULTIHOST_SECONDS); fi

multihost: all
	python3 t/multihost/multihost.py --seconds $(MULTIHOST_SECONDS)

# libFuzzer on every parser of untrusted bytes, FUZZ_SECONDS each (clang)
FUZZ_SECONDS ?= 60
fuzz:
	sh t/fuzz/run.sh $(FUZZ_SECONDS)

install: $(BINS)
	PREFIX='$(PREFIX)' DESTDIR='$(DESTDIR)' BUILD='$(BUILD)' \
		VERSION='$(VERSION)' sh contrib/install.sh

deb:
	@VERSION='$(VERSION)' BUILD='$(BUILD)' sh contrib/deb.sh

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
