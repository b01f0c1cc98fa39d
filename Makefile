# shmtrace - one non-recursive Makefile.
#   make            build build/libshmtrace.so, build/shmtrace, build/shmview
#   make deps       install missing Debian packages (apt-get), no-op otherwise
#   make test       unit and end-to-end tests; ends with "N passed, N failed"
#   make demo       trace the nginx-style example and show what it did
#   make clean
# CC, CFLAGS, LDFLAGS may be overridden; SAN=1 adds ASan+UBSan.

CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=
B       := build

WARN     := -std=gnu11 -Wall -Wextra -Wno-unused-parameter
ALL_CFLAGS = $(WARN) $(CFLAGS) -Ishim -MMD -MP
ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_LDFLAGS := -fsanitize=address,undefined
endif

# Debian packages the build and the tests need.
DEPS_PKGS := gcc make libunwind-dev uthash-dev libdw-dev libelf-dev \
             libncurses-dev tmux python3 procps

# --- the shim: a recorder core, thin wrappers, the region code -------------
SHIM_CORE := shim/recorder.c shim/region.c shim/track.c shim/modules.c \
             shim/clock.c
SHIM_WRAP := $(wildcard shim/wrap-*.c)
SHIM_CFLAGS := -fPIC -fvisibility=hidden -ftls-model=initial-exec \
               -fno-omit-frame-pointer -D_GNU_SOURCE
SHIM_CORE_OBJ := $(SHIM_CORE:%.c=$(B)/%.o)
SHIM_WRAP_OBJ := $(SHIM_WRAP:%.c=$(B)/%.o)

# The preloaded library is never built with sanitizers: their runtimes must
# come first in the process and would change what the host sees.
$(B)/shim/%.o: shim/%.c | $(B)/shim
	$(CC) $(WARN) $(CFLAGS) -Ishim -MMD -MP $(SHIM_CFLAGS) -c $< -o $@

$(B)/libshmtrace.so: $(SHIM_CORE_OBJ) $(SHIM_WRAP_OBJ) shim/exports.map
	$(CC) -shared -o $@ $(SHIM_CORE_OBJ) $(SHIM_WRAP_OBJ) \
	  -Wl,--version-script=shim/exports.map -Wl,-z,nodelete \
	  $(LDFLAGS) -lunwind -ldl -lpthread

# --- the launcher -----------------------------------------------------------
LAUNCHER_SRC := shim/launcher.c
$(B)/launcher/%.o: shim/%.c | $(B)/launcher
	$(CC) $(ALL_CFLAGS) -D_GNU_SOURCE -c $< -o $@
$(B)/shmtrace: $(B)/launcher/launcher.o $(B)/launcher/region.o $(B)/launcher/clock.o
	$(CC) -o $@ $^ $(LDFLAGS) $(SAN_LDFLAGS)

# --- the viewer ---------------------------------------------------------------
VIEWER_SRC := $(wildcard viewer/*.c)
VIEWER_OBJ := $(VIEWER_SRC:%.c=$(B)/%.o)
VIEWER_LIB_OBJ := $(filter-out $(B)/viewer/main.o,$(VIEWER_OBJ))
VIEWER_LIBS := -ldw -lelf
$(B)/viewer/%.o: viewer/%.c | $(B)/viewer
	$(CC) $(ALL_CFLAGS) -D_GNU_SOURCE -c $< -o $@
# The viewer checks headers with the shim's own region code.
$(B)/shmview: $(VIEWER_OBJ) $(B)/launcher/region.o $(B)/launcher/clock.o
	$(CC) -o $@ $^ $(LDFLAGS) $(SAN_LDFLAGS) $(VIEWER_LIBS)

# --- examples and tests -------------------------------------------------------
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
$(B)/examples/%: examples/%.c | $(B)/examples
	$(CC) $(ALL_CFLAGS) -D_GNU_SOURCE -o $@ $< $(LDFLAGS) $(SAN_LDFLAGS) -lpthread

UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test-*.c))
# Unit tests link the viewer's reader core and the shim's recorder core
# directly (no preloading), the way heaptrack tests its core.
$(B)/tests/%: tests/unit/%.c $(VIEWER_LIB_OBJ) $(SHIM_CORE_OBJ) | $(B)/tests
	$(CC) $(ALL_CFLAGS) -D_GNU_SOURCE -Iviewer -o $@ $< $(VIEWER_LIB_OBJ) \
	  $(SHIM_CORE_OBJ) $(LDFLAGS) $(SAN_LDFLAGS) $(VIEWER_LIBS) -lunwind -ldl -lpthread

$(B)/shim $(B)/launcher $(B)/viewer $(B)/examples $(B)/tests:
	mkdir -p $@

.PHONY: all deps test demo clean examples unit
all: $(B)/libshmtrace.so $(B)/shmtrace $(B)/shmview
examples: $(EXAMPLES)
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

-include $(shell find $(B) -name '*.d' 2>/dev/null)
