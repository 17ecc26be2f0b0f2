# recfs — plain GNU make. `make` builds build/recfs and build/recctl.
# `make test` installs missing Debian packages, then runs every test twice:
# on the normal build and on an AddressSanitizer+UBSan build (build-san/);
# then the unit tests and a few concurrency tests on a ThreadSanitizer
# build (build-tsan/, TSAN_CI_TESTS below).

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
CFLAGS ?= -O2 -g
SAN ?=
TSAN ?=

PKGS := fuse3 libsodium sndfile inih
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
override CFLAGS += -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 $(WARN) $(PKG_CFLAGS) -Ifs -pthread
override LDLIBS += $(PKG_LIBS) -pthread
ifneq ($(SAN),)
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1
override LDFLAGS += -fsanitize=address,undefined
endif
# TSAN=1: ThreadSanitizer (make tsan builds $(BUILD)-tsan with clang). As in
# the fuzz build, clang's warnings do not stop it: gcc's -Werror build does.
ifneq ($(TSAN),)
WARN := $(filter-out -Werror,$(WARN))
override CFLAGS += -fsanitize=thread -fno-omit-frame-pointer -O1
override LDFLAGS += -fsanitize=thread
endif

# Everything the daemon and the tools share; main, ops, fusedev and reaper are the
# daemon's own.
CORE := crypto store config clock log tree retention node unlock audio audit
CORE_OBJ := $(CORE:%=$(BUILD)/fs/%.o)
DAEMON_OBJ := $(BUILD)/fs/main.o $(BUILD)/fs/ops.o $(BUILD)/fs/fusedev.o $(BUILD)/fs/reaper.o
UNIT := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT:%=$(BUILD)/tests/%)
# Small standalone programs the integration tests drive the mount with.
TTOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(wildcard tests/tools/*.c))

.PHONY: all deps check-deps test test-fast check demo undemo install clean
all: check-deps $(BUILD)/recfs $(BUILD)/recctl $(BUILD)/recbench $(UNIT_BIN) $(TTOOLS)

check-deps:
	@for p in $(PKGS); do pkg-config --exists $$p || { \
	  echo "recfs: missing library '$$p' (pkg-config); run 'make deps' or tools/deps.sh" >&2; exit 1; }; done

deps:
	@sh tools/deps.sh

$(BUILD)/fs/%.o: fs/%.c fs/*.h | $(BUILD)/fs
	$(CC) $(CFLAGS) -c -o $@ $<
$(BUILD)/tools/%.o: tools/%.c fs/*.h | $(BUILD)/tools
	$(CC) $(CFLAGS) -c -o $@ $<
$(BUILD)/tests/%.o: tests/unit/%.c fs/*.h tests/unit/*.h | $(BUILD)/tests
	$(CC) $(CFLAGS) -Itests/unit -c -o $@ $<

$(BUILD)/tests/%: tests/tools/%.c | $(BUILD)/tests
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -pthread

$(BUILD)/recfs: $(DAEMON_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/recctl: $(BUILD)/tools/recctl.o $(BUILD)/tools/recctl_audit.o $(BUILD)/tools/recctl_admin.o $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# recbench stands alone: libsndfile and pthreads, no recfs code.
$(BUILD)/recbench: tools/recbench.c
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs sndfile) -pthread

$(BUILD)/fs $(BUILD)/tools $(BUILD)/tests:
	mkdir -p $@

# The README's test command. Each pass builds first, so a clean clone works.
# On build-tsan only the tests TSAN_CI_TESTS names (tests/run.sh's
# BUILD:PATTERNS), about a minute and a half.
test: deps
	$(MAKE) all
	$(MAKE) BUILD=build-san SAN=1 all
	$(MAKE) BUILD=build-tsan TSAN=1 CC=$(TSAN_CC) all
	sh tests/run.sh build build-san 'build-tsan:$(TSAN_CI_TESTS)'

# Only the normal build: quick feedback while developing.
test-fast: all
	sh tests/run.sh build

check: deps
	$(MAKE) BUILD=build-san SAN=1 all
	sh tests/run.sh build-san

demo: deps
	$(MAKE) all
	sh tools/demo.sh start

undemo:
	sh tools/demo.sh stop

# install: programs to $(PREFIX)/sbin (recbench, when built, to bin), man
# pages, systemd units, examples and docs; /etc/recfs/recfs.conf only when
# there is none. mount(8) looks for mount.recfs in /sbin only, so with a
# PREFIX other than /usr a symlink MOUNT_HELPER_DIR/mount.recfs points at
# $(PREFIX)/sbin/mount.recfs (MOUNT_HELPER_DIR= installs none). The units
# name $(PREFIX)/sbin in their ExecStart= lines.
UNITDIR ?= $(PREFIX)/lib/systemd/system
MOUNT_HELPER_DIR ?= /sbin
INSTALL_UNITS := recfs@.service recfs-reap.service recfs-reap.timer
INSTALL_DOCS := README.md $(wildcard docs/*.md)
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
	  $(DESTDIR)$(PREFIX)/share/doc/recfs/examples/systemd $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/recfs $(DESTDIR)$(PREFIX)/sbin/recfs
	install -m 0755 $(BUILD)/recctl $(DESTDIR)$(PREFIX)/sbin/recctl
	install -m 0755 tools/mount.recfs $(DESTDIR)$(PREFIX)/sbin/mount.recfs
	if [ -x $(BUILD)/recbench ]; then \
	  install -m 0755 $(BUILD)/recbench $(DESTDIR)$(PREFIX)/bin/recbench; fi
	@set -e; case "$(PREFIX)" in /usr | /usr/ | /) exit 0 ;; esac; \
	if [ -z "$(MOUNT_HELPER_DIR)" ] || [ "$(MOUNT_HELPER_DIR)" = "$(PREFIX)/sbin" ]; then exit 0; fi; \
	link=$(DESTDIR)$(MOUNT_HELPER_DIR)/mount.recfs; \
	if [ -e "$$link" ] && [ ! -L "$$link" ]; then \
	  echo "recfs: $$link exists and is not a symlink; left alone" >&2; exit 0; fi; \
	install -d $(DESTDIR)$(MOUNT_HELPER_DIR); \
	echo "ln -sf $(PREFIX)/sbin/mount.recfs $$link"; \
	ln -sf $(PREFIX)/sbin/mount.recfs "$$link"
	install -m 0644 man/recfs.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/recfs.conf.5
	install -m 0644 man/recfs.8 man/recctl.8 man/mount.recfs.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	for u in $(INSTALL_UNITS); do \
	  sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' etc/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$u && \
	  cp -p $(DESTDIR)$(UNITDIR)/$$u $(DESTDIR)$(PREFIX)/share/doc/recfs/examples/systemd/$$u || exit 1; \
	done
	install -m 0644 etc/recfs.conf $(DESTDIR)$(PREFIX)/share/doc/recfs/examples/recfs.conf
	install -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(PREFIX)/share/doc/recfs/
	@if [ -e $(DESTDIR)/etc/recfs/recfs.conf ]; then \
	  echo "recfs: $(DESTDIR)/etc/recfs/recfs.conf exists; left as it is"; \
	else \
	  echo "install -m 0644 etc/recfs.conf $(DESTDIR)/etc/recfs/recfs.conf"; \
	  install -d -m 0755 $(DESTDIR)/etc/recfs && \
	  install -m 0644 etc/recfs.conf $(DESTDIR)/etc/recfs/recfs.conf; \
	fi
	@echo "recfs: installed. Next: recctl init --config /etc/recfs/recfs.conf (see recfs(8))"

# uninstall: what install put there, except /etc/recfs (config and key) and
# of course every store.
.PHONY: uninstall
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/recfs $(DESTDIR)$(PREFIX)/sbin/recctl \
	  $(DESTDIR)$(PREFIX)/sbin/mount.recfs $(DESTDIR)$(PREFIX)/bin/recbench \
	  $(DESTDIR)$(PREFIX)/share/man/man5/recfs.conf.5 \
	  $(DESTDIR)$(PREFIX)/share/man/man8/recfs.8 \
	  $(DESTDIR)$(PREFIX)/share/man/man8/recctl.8 \
	  $(DESTDIR)$(PREFIX)/share/man/man8/mount.recfs.8 \
	  $(INSTALL_UNITS:%=$(DESTDIR)$(UNITDIR)/%)
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/recfs
	@link=$(DESTDIR)$(MOUNT_HELPER_DIR)/mount.recfs; \
	if [ -n "$(MOUNT_HELPER_DIR)" ] && [ -L "$$link" ] && \
	   [ "$$(readlink "$$link")" = "$(PREFIX)/sbin/mount.recfs" ]; then \
	  echo "rm -f $$link"; rm -f "$$link"; fi
	@echo "recfs: /etc/recfs and the stores are left in place"

clean:
	rm -rf build build-san build-tsan build-fuzz

# The benchmark of issue 4: recfs beside a plain folder, bindfs, gocryptfs
# and securefs (tests/bench/run.sh; BENCH_QUICK=1 for the smoke version).
.PHONY: bench
bench: all $(BUILD)/tests/fsbench
	BUILD=$(BUILD) BENCH_NO_BUILD=1 bash tests/bench/run.sh

$(BUILD)/tests/fsbench: tests/bench/fsbench.c | $(BUILD)/tests
	$(CC) $(CFLAGS) -O2 $(LDFLAGS) -o $@ $< -pthread

# ---- fuzzing and valgrind (docs/fuzzing.md) ----
# fuzz-build: libFuzzer targets tests/fuzz/fuzz_*.c and the seed generator
# in $(FUZZ_BUILD), with clang, ASan and UBSan; the core is compiled again
# there, so no other build is touched. fuzz: each target FUZZ_SECONDS
# seconds on generated seeds after its saved regression inputs; any crash,
# leak, UB or harness finding fails (tests/fuzz/run.sh).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= $(BUILD)-fuzz
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# The project's defines and includes, its warnings without -Werror (clang
# warns about things gcc does not; a warning must not stop a fuzz run).
FUZZ_CFLAGS = -g -O1 $(filter -std=% -D% -I% -pthread,$(CFLAGS)) $(filter-out -Werror,$(WARN)) -Itests/fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CORE_OBJ := $(CORE:%=$(FUZZ_BUILD)/fs/%.o) $(FUZZ_BUILD)/harness.o
# Kept, so a second fuzz-build relinks nothing.
.SECONDARY: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/mkcorpus.o

.PHONY: fuzz fuzz-build valgrind
fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null || { echo "recfs: $(FUZZ_CC) not found; run tools/deps.sh (clang, libclang-rt-14-dev)" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%) $(FUZZ_BUILD)/mkcorpus

fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(FUZZ_BUILD)/fs/%.o: fs/%.c fs/*.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -c -o $@ $<
$(FUZZ_BUILD)/%.o: tests/fuzz/%.c tests/fuzz/harness.h fs/*.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -c -o $@ $<
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/fuzz_%.o $(FUZZ_CORE_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(LDLIBS)
# mkcorpus has its own main: the instrumented objects without libFuzzer.
$(FUZZ_BUILD)/mkcorpus: $(FUZZ_BUILD)/mkcorpus.o $(FUZZ_CORE_OBJ)
	$(FUZZ_CC) $(subst fuzzer,fuzzer-no-link,$(FUZZ_SAN)) -o $@ $^ $(LDLIBS)

# ---- ThreadSanitizer (docs/testing.md, "ThreadSanitizer") ----
# tsan-build: $(TSAN_BUILD) with $(TSAN_CC) -fsanitize=thread (TSAN=1): the
# core, daemon, recctl and the test programs compiled again there, so no
# other build is touched. tsan: then the unit tests and the integration
# tests that run threads against each other (TSAN_TESTS: patterns, as in
# tests/run.sh BUILD:PATTERNS). tests/run.sh gives every program
# TSAN_OPTIONS with tests/tsan.supp and halt_on_error=1, so any race fails
# the test that met it. make test runs the shorter TSAN_CI_TESTS.
TSAN_CC ?= clang
TSAN_BUILD ?= $(BUILD)-tsan
TSAN_TESTS ?= test_*,02-recorders,03-live,20-expire,21-keep,23-scale,32-audit,41-model,42-crash
TSAN_CI_TESTS ?= test_*,03-live,23-scale,41-model
.PHONY: tsan tsan-build
tsan-build:
	@command -v $(TSAN_CC) >/dev/null || { echo "recfs: $(TSAN_CC) not found; run tools/deps.sh (clang, libclang-rt-14-dev)" >&2; exit 1; }
	$(MAKE) BUILD=$(TSAN_BUILD) TSAN=1 CC=$(TSAN_CC) all

tsan: tsan-build
	sh tests/run.sh '$(TSAN_BUILD):$(TSAN_TESTS)'

# valgrind: memcheck over every unit test of $(BUILD) (built first). A
# memcheck error (the log has it) and a test that fails under valgrind are
# told apart in the summary; either fails the target.
valgrind: $(UNIT_BIN)
	@command -v valgrind >/dev/null || { echo "recfs: valgrind not found; run tools/deps.sh" >&2; exit 1; }
	@clean=0; vgerr=0; tfail=0; \
	for t in $(UNIT_BIN); do \
	  log=$$(mktemp /tmp/recfs-valgrind.XXXXXX) || exit 2; \
	  out=$$(mktemp /tmp/recfs-valgrind.XXXXXX) || exit 2; \
	  valgrind -q --error-exitcode=1 --leak-check=full --log-file="$$log" $$t >"$$out" 2>&1; rc=$$?; \
	  if [ -s "$$log" ]; then \
	    vgerr=$$((vgerr + 1)); echo "valgrind: $$t: MEMCHECK ERRORS"; sed 's/^/    | /' "$$log" | head -n 80; \
	  elif [ $$rc -ne 0 ]; then \
	    tfail=$$((tfail + 1)); echo "valgrind: $$t: memcheck clean, but the test failed (exit $$rc):"; \
	    grep -v '^PASS:' "$$out" | tail -n 10 | sed 's/^/    | /'; \
	  else \
	    clean=$$((clean + 1)); echo "valgrind: $$t: clean"; \
	  fi; \
	  rm -f "$$log" "$$out"; \
	done; \
	echo "valgrind: $$clean clean, $$vgerr with memcheck errors, $$tfail failed under valgrind"; \
	[ $$vgerr -eq 0 ] && [ $$tfail -eq 0 ]

# stress: the model checker (41-model) and the crash test (42-crash) with
# long budgets, on the normal build (docs/testing.md). Defaults: 16 fsx
# phases of up to 100 000 ops (at most 10 min each), 100 kill -9 rounds.
STRESS_SEEDS ?= 16
STRESS_OPS ?= 100000
STRESS_SECS ?= 600
STRESS_ROUNDS ?= 100
.PHONY: stress
stress: all
	@b=$$(cd $(BUILD) && pwd); failed=0; \
	for t in tests/integration/41-model.sh tests/integration/42-crash.sh; do \
	  echo "stress: $$t"; \
	  RECFS=$$b/recfs RECCTL=$$b/recctl TESTBIN=$$b/tests BUILD=$$b \
	  MODEL_SEEDS=$(STRESS_SEEDS) MODEL_OPS=$(STRESS_OPS) MODEL_SECS=$(STRESS_SECS) \
	  CRASH_ROUNDS=$(STRESS_ROUNDS) CRASH_SECS=1000000 bash $$t || failed=$$((failed + 1)); \
	done; \
	echo "stress: $$failed of 2 tests failed"; [ $$failed -eq 0 ]
