# recfs — plain GNU make. `make` builds build/recfs and build/recctl.
# `make test` installs missing Debian packages, then runs every test twice:
# on the normal build and on an AddressSanitizer+UBSan build (build-san/).

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
CFLAGS ?= -O2 -g
SAN ?=

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

# Everything the daemon and the tools share; main, ops, reaper and flusher
# are the daemon's own.
CORE := crypto store config clock log tree retention node unlock audio audit
CORE_OBJ := $(CORE:%=$(BUILD)/fs/%.o)
DAEMON_OBJ := $(BUILD)/fs/main.o $(BUILD)/fs/ops.o $(BUILD)/fs/reaper.o $(BUILD)/fs/flusher.o
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
test: deps
	$(MAKE) all
	$(MAKE) BUILD=build-san SAN=1 all
	sh tests/run.sh build build-san

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

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/recfs $(DESTDIR)$(PREFIX)/sbin/recfs
	install -m 0755 $(BUILD)/recctl $(DESTDIR)$(PREFIX)/sbin/recctl

clean:
	rm -rf build build-san
