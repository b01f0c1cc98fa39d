# shmtrace - one non-recursive Makefile.
#   make            build build/libshmtrace.so, build/shmtrace, build/shmview
#   make deps       install missing Debian packages (apt-get), no-op otherwise
#   make test       unit and end-to-end tests; ends with "N passed, N failed"
#   make demo       trace the nginx-style example and show what it did
#   make fuzz       fuzz the trace reader for FUZZ_SECONDS (default 60)
#   make clean
#   make install    install into $(DESTDIR)$(PREFIX) (PREFIX=/usr/local):
#                   bin/shmtrace, bin/shmview, lib/shmtrace/libshmtrace.so,
#                   share/man/man1/shmtrace.1 and shmview.1
#   make uninstall  remove what make install installed
# CC, CFLAGS, LDFLAGS may be overridden; SAN=1 adds ASan+UBSan.

.DEFAULT_GOAL := all

CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=
B       := build

WARN     := -std=gnu11 -Wall -Wextra -Wno-unused-parameter
# SAN=1: the launcher, the viewer, the unit tests (with the shim's recorder
# core inside them) get ASan and UBSan; the preloaded shim gets UBSan only,
# because ASan's runtime must be the first library of every process and
# would change every traced program; the examples (the traced programs)
# stay as they are.  Any finding aborts, so a test fails.
ifeq ($(SAN),1)
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=address,undefined
SHIM_SAN    := -fsanitize=undefined -fno-sanitize-recover=all
endif
ALL_CFLAGS = $(WARN) $(CFLAGS) -Icommon -MMD -MP $(SAN_FLAGS)
VIEWER_INC := -Iviewer/core -Iviewer

# Debian packages the build and the tests need.
DEPS_PKGS := gcc make libunwind-dev uthash-dev libdw-dev libelf-dev \
             libncurses-dev tmux python3 procps
# ... the real programs the reliability tests run under the tracer
DEPS_PKGS += nginx-light postgresql
# ... what `shmview metrics` is checked against: promtool (in prometheus)
# lints the exposition, node_exporter's textfile collector serves it
DEPS_PKGS += prometheus prometheus-node-exporter
# ... sandboxes the traced program may enter (tests/e2e/reliability.py):
# bubblewrap, and Chromium with its own sandbox (run as nobody)
DEPS_PKGS += bubblewrap chromium
# ... the programs that share memory through descriptors, files and
# semaphores (tests/e2e/ident-real.py: one segment per kernel object), and
# wrk to measure a server's requests/s under the tracer (make bench)
DEPS_PKGS += python3-lmdb apache2 apache2-utils php-fpm default-jre-headless \
             python3-torch wrk
# ... and the ones only `make bench` uses (tracers to compare with, the
# profiler, /usr/bin/time for peak memory).
DEPS_PKGS += strace ltrace linux-perf valgrind time

# --- common/: the format, the region, the clock; in all three programs --------
# (the shim takes only the region and the clock: what a traced process needs)
COMMON_SRC := $(wildcard common/*.c)
SHIM_COMMON := common/region-layout.c common/region-file.c common/clock.c

# --- the shim: a recorder core and thin wrappers ------------------------------
SHIM_CORE := shim/recorder.c shim/track.c shim/modules.c shim/object.c shim/got.c
SHIM_WRAP := $(wildcard shim/wrap-*.c)
SHIM_CFLAGS := -fPIC -fvisibility=hidden -ftls-model=initial-exec \
               -fno-omit-frame-pointer -D_GNU_SOURCE
SHIM_OBJ := $(SHIM_CORE:%.c=$(B)/%.o) $(SHIM_WRAP:%.c=$(B)/%.o) \
            $(SHIM_COMMON:common/%.c=$(B)/shim/common/%.o)

$(B)/shim/%.o: shim/%.c | $(B)/shim/common
	$(CC) $(WARN) $(CFLAGS) -Icommon -MMD -MP $(SHIM_CFLAGS) $(SHIM_SAN) -c $< -o $@
$(B)/shim/common/%.o: common/%.c | $(B)/shim/common
	$(CC) $(WARN) $(CFLAGS) -Icommon -MMD -MP $(SHIM_CFLAGS) $(SHIM_SAN) -c $< -o $@

$(B)/libshmtrace.so: $(SHIM_OBJ) shim/exports.map
	$(CC) -shared -o $@ $(SHIM_OBJ) \
	  -Wl,--version-script=shim/exports.map -Wl,-z,nodelete \
	  $(LDFLAGS) $(SHIM_SAN) -lunwind -ldl -lpthread

# The recorder core and common/ again, built like the rest for the unit
# tests, which exercise them directly (with ASan under SAN=1).
SHIM_TEST_OBJ := $(SHIM_CORE:shim/%.c=$(B)/shim-test/%.o) \
                 $(SHIM_COMMON:common/%.c=$(B)/shim-test/common/%.o)
$(B)/shim-test/%.o: shim/%.c | $(B)/shim-test/common
	$(CC) $(ALL_CFLAGS) $(SHIM_CFLAGS) -c $< -o $@
$(B)/shim-test/common/%.o: common/%.c | $(B)/shim-test/common
	$(CC) $(ALL_CFLAGS) $(SHIM_CFLAGS) -c $< -o $@

# common/ as the launcher and the viewer link it.
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
$(B)/common/%.o: common/%.c | $(B)/common
	$(CC) $(ALL_CFLAGS) -D_GNU_SOURCE -c $< -o $@

# --- the launcher -----------------------------------------------------------
LAUNCHER_SRC := $(wildcard launcher/*.c)
LAUNCHER_OBJ := $(LAUNCHER_SRC:%.c=$(B)/%.o)
$(B)/launcher/%.o: launcher/%.c | $(B)/launcher
	$(CC) $(ALL_CFLAGS) -Ilauncher -D_GNU_SOURCE -c $< -o $@
$(B)/shmtrace: $(LAUNCHER_OBJ) $(COMMON_OBJ)
	$(CC) -o $@ $^ $(LDFLAGS) $(SAN_LDFLAGS) -lelf

# --- the viewer: core/ (read, validate, model, rules) and commands + renderers
VIEWER_CORE_SRC := $(wildcard viewer/core/*.c)
VIEWER_SRC := $(wildcard viewer/*.c)
VIEWER_CORE_OBJ := $(VIEWER_CORE_SRC:%.c=$(B)/%.o)
VIEWER_OBJ := $(VIEWER_SRC:%.c=$(B)/%.o)
VIEWER_LIB_OBJ := $(VIEWER_CORE_OBJ) $(filter-out $(B)/viewer/main.o,$(VIEWER_OBJ))
VIEWER_LIBS := -ldw -lelf -lncursesw
$(B)/viewer/core/%.o: viewer/core/%.c | $(B)/viewer/core
	$(CC) $(ALL_CFLAGS) -Iviewer/core -D_GNU_SOURCE -c $< -o $@
$(B)/viewer/%.o: viewer/%.c | $(B)/viewer/core
	$(CC) $(ALL_CFLAGS) $(VIEWER_INC) -D_GNU_SOURCE -c $< -o $@
$(B)/shmview: $(VIEWER_CORE_OBJ) $(VIEWER_OBJ) $(COMMON_OBJ)
	$(CC) -o $@ $^ $(LDFLAGS) $(SAN_LDFLAGS) $(VIEWER_LIBS)

# --- examples and tests -------------------------------------------------------
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
$(B)/examples/%: examples/%.c | $(B)/examples
	$(CC) $(WARN) $(CFLAGS) -MMD -MP -D_GNU_SOURCE -o $@ $< $(LDFLAGS) -lpthread

# The attach target linked statically: shmtrace -p must refuse it in one
# line (no loader to load the shim into).
EXAMPLES += $(B)/examples/attach-target-static
$(B)/examples/attach-target-static: examples/attach-target.c | $(B)/examples
	$(CC) $(WARN) $(CFLAGS) -D_GNU_SOURCE -static -o $@ $< -lpthread

# A library the deepbind example loads with RTLD_DEEPBIND (issue 12: calls
# that bind past the preload).
EXAMPLE_LIBS := $(patsubst examples/lib/%.c,$(B)/examples/lib%.so,$(wildcard examples/lib/*.c))
$(B)/examples/lib%.so: examples/lib/%.c | $(B)/examples
	$(CC) $(WARN) $(CFLAGS) -MMD -MP -D_GNU_SOURCE -fPIC -shared -o $@ $< $(LDFLAGS)

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test-*.c))
# Unit tests link the viewer's core and the shim's recorder core directly
# (no preloading), the way heaptrack tests its core.
UNIT_INC := $(VIEWER_INC) -Ishim
# ... and the rest of common/ (the option parser): the region and the clock
# come with the shim's recorder core.
UNIT_COMMON_OBJ := $(filter-out $(SHIM_COMMON:%.c=$(B)/%.o),$(COMMON_OBJ))
$(B)/tests/%: tests/unit/%.c $(VIEWER_LIB_OBJ) $(UNIT_COMMON_OBJ) $(SHIM_TEST_OBJ) | $(B)/tests
	$(CC) $(ALL_CFLAGS) -D_GNU_SOURCE $(UNIT_INC) -o $@ $< $(VIEWER_LIB_OBJ) \
	  $(UNIT_COMMON_OBJ) $(SHIM_TEST_OBJ) $(LDFLAGS) $(SAN_LDFLAGS) $(VIEWER_LIBS) -lunwind -ldl -lpthread

# The fuzz target, replayed over the regression corpus as a unit test.
$(B)/tests/test-fuzz-regressions: tests/unit/test-fuzz-regressions.c \
		tests/fuzz/fuzz-trace.c $(VIEWER_LIB_OBJ) $(UNIT_COMMON_OBJ) $(SHIM_TEST_OBJ) | $(B)/tests
	$(CC) $(ALL_CFLAGS) -D_GNU_SOURCE $(UNIT_INC) -o $@ $< tests/fuzz/fuzz-trace.c \
	  $(VIEWER_LIB_OBJ) $(UNIT_COMMON_OBJ) $(SHIM_TEST_OBJ) $(LDFLAGS) $(SAN_LDFLAGS) $(VIEWER_LIBS) \
	  -lunwind -ldl -lpthread

# The ptrace injector, calling into a child it forks, and the library it
# loads there.
$(B)/tests/inject-probe.so: tests/unit/inject-probe.c | $(B)/tests
	$(CC) $(WARN) $(CFLAGS) -shared -fPIC -o $@ $<
$(B)/tests/test-inject: tests/unit/test-inject.c $(B)/launcher/inject.o \
		$(B)/tests/inject-probe.so | $(B)/tests
	$(CC) $(ALL_CFLAGS) -D_GNU_SOURCE -Ilauncher -o $@ $< $(B)/launcher/inject.o \
	  $(LDFLAGS) $(SAN_LDFLAGS) -lelf -ldl -lpthread

# --- fuzzing: libFuzzer from clang, bounded in time ---------------------------
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_PKGS    := clang libclang-rt-14-dev
FUZZ_SRC     := tests/fuzz/fuzz-trace.c $(VIEWER_CORE_SRC) \
                $(filter-out viewer/main.c,$(VIEWER_SRC)) $(COMMON_SRC)
$(B)/fuzz/fuzz-trace: $(FUZZ_SRC) | $(B)/fuzz
	$(FUZZ_CC) $(WARN) -g -O1 -Icommon $(VIEWER_INC) -D_GNU_SOURCE -DFUZZ_LIBFUZZER \
	  -fsanitize=fuzzer,address,undefined -o $@ $(FUZZ_SRC) $(VIEWER_LIBS)

fuzz-deps:
	@$(MAKE) --no-print-directory deps DEPS_PKGS="$(FUZZ_PKGS)"

fuzz: fuzz-deps all examples
	@$(MAKE) --no-print-directory $(B)/fuzz/fuzz-trace
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

$(B)/shim/common $(B)/shim-test/common $(B)/common $(B)/launcher $(B)/viewer/core $(B)/examples $(B)/tests $(B)/fuzz:
	mkdir -p $@

.PHONY: all deps test demo clean examples unit fuzz fuzz-deps install uninstall
all: $(B)/libshmtrace.so $(B)/shmtrace $(B)/shmview
examples: $(EXAMPLES) $(EXAMPLE_LIBS)
unit: $(UNIT_TESTS)

deps:
	@missing=""; for p in $(DEPS_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: everything is installed"; \
	else echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $$missing; fi

test: all examples unit
	@tests/run-tests.sh

demo: all examples
	@tests/demo.sh

clean:
	rm -rf $(B)

# --- install ----------------------------------------------------------------
# The launcher finds the shim at ../lib/shmtrace/libshmtrace.so and the
# viewer beside itself, relative to where it runs from: nothing is
# hard-coded, so DESTDIR staging and relocating PREFIX both work.
PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL ?= install
BINDIR  := $(PREFIX)/bin
LIBDIR  := $(PREFIX)/lib/shmtrace
MANDIR  := $(PREFIX)/share/man/man1
MANPAGES := man/shmtrace.1 man/shmview.1

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR)
	$(INSTALL) -m 755 $(B)/shmtrace $(B)/shmview $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 644 $(B)/libshmtrace.so $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 644 $(MANPAGES) $(DESTDIR)$(MANDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/shmtrace $(DESTDIR)$(BINDIR)/shmview \
	  $(DESTDIR)$(LIBDIR)/libshmtrace.so \
	  $(addprefix $(DESTDIR)$(MANDIR)/,$(notdir $(MANPAGES)))
	rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null || true

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# --- benchmarks (bench/): not part of `make test` ----------------------------
#   make bench      workloads bare / under the shim / strace / ltrace, the
#                   viewer on a million events; prints a table and writes
#                   bench/RESULTS.md.  BENCH_QUICK=1 or BENCH_REPS=N to vary.
# The workloads are built without sanitizers whatever SAN says, and keep
# every frame of their recursion (no sibling calls).  The viewer is built
# if it can be; the viewer benchmarks are skipped with a note if not.
$(B)/bench/workload: bench/workload.c | $(B)/bench
	$(CC) $(WARN) $(CFLAGS) -D_GNU_SOURCE -fno-optimize-sibling-calls \
	  -o $@ $< $(LDFLAGS) -lpthread
# A synthetic 10M-event compact trace for the viewer benchmarks, written
# straight with the records writer (bench/gen-trace.c).
$(B)/bench/gen-trace: bench/gen-trace.c common/records-writer.c common/records.c | $(B)/bench
	$(CC) $(WARN) $(CFLAGS) -Icommon -D_GNU_SOURCE -o $@ $^ $(LDFLAGS)
# live's refresh on a growing trace, timed without a terminal: links the
# viewer's core
$(B)/bench/live-refresh: bench/live-refresh.c $(VIEWER_CORE_OBJ) $(COMMON_OBJ) | $(B)/bench
	$(CC) $(ALL_CFLAGS) -Iviewer/core -D_GNU_SOURCE -o $@ $^ $(LDFLAGS) $(SAN_LDFLAGS) \
	  $(VIEWER_LIBS)
$(B)/bench:
	mkdir -p $@
.PHONY: bench
bench: $(B)/libshmtrace.so $(B)/shmtrace $(B)/bench/workload $(B)/bench/gen-trace \
       $(B)/examples/attach-target
	-@$(MAKE) --no-print-directory $(B)/shmview $(B)/bench/live-refresh
	@python3 bench/run.py
