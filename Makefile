# socktrace - build, test, demo, bench, install. Read top to bottom.
#   make            build/libsocktrace.so and build/socktrace
#   make test       unit and integration tests (preload built with ASan+UBSan)
#   make test-loaded  the same while two busy loops load the cores
#   make demo       runs an example under the tracer and shows its table
#   make bench      overhead figures (not a test)
#   make install    PREFIX=/usr/local, DESTDIR honoured
#   make deb        socktrace_VERSION_ARCH.deb (dpkg-deb)
#   make musl       build/libsocktrace-musl.so and a static build/socktrace-musl

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Werror
BASE      = -std=gnu11 $(WARN) -MMD -MP -DST_VERSION_STRING='"$(VERSION)"' -DST_LIBDIR='"$(LIBDIR)"'
SAN       = -fsanitize=address,undefined -fno-omit-frame-pointer
B         = build

# What is missing is installed (root on Debian) or named by tests/deps.sh;
# without root the uthash header is unpacked into build/deps.
DEPS_INC  = $(B)/deps/usr/include
BASE     += -idirafter $(DEPS_INC)
DEPS      = $(if $(wildcard /usr/include/uthash.h /usr/local/include/uthash.h $(DEPS_INC)/uthash.h),,deps)

PRELOAD_SRC = $(wildcard preload/*.c)
VIEWER_SRC  = $(wildcard viewer/*.c) preload/tracedir.c preload/sockaddr_conv.c preload/codec.c \
              preload/trace_read.c
PRELOAD_OBJ = $(PRELOAD_SRC:%.c=$(B)/obj/%.o)
PRELOAD_SAN = $(PRELOAD_SRC:%.c=$(B)/san/%.o)
VIEWER_OBJ  = $(VIEWER_SRC:%.c=$(B)/obj/%.o)
EXAMPLES    = $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
UNIT_TESTS  = $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/*.c))
HELPERS     = $(patsubst tests/helpers/%.c,$(B)/tests/%,$(wildcard tests/helpers/*.c)) \
              $(patsubst tests/helpers/lib/%.c,$(B)/tests/lib%.so,$(wildcard tests/helpers/lib/*.c))
BENCHES     = $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))

all: $(B)/libsocktrace.so $(B)/socktrace

deps:
	@CC="$(CC)" B="$(B)" tests/deps.sh build

test-deps:
	@CC="$(CC)" B="$(B)" tests/deps.sh test

# The fuzz target needs clang's libFuzzer; without it the fuzz test skips.
FUZZ_CC  ?= clang
FUZZ_SRC  = $(filter-out viewer/main.c,$(VIEWER_SRC))
FUZZER    = $(B)/fuzz/fuzz_snapshot
FUZZ_SECONDS ?= 600

# The preload: hidden by default, only the interposed names exported. It
# exports syscall(), so its own syscall() calls are linked to a private
# raw one (__wrap_syscall in preload/real.c), not to that hook.
PRELOAD_CFLAGS = $(BASE) $(CFLAGS) -fPIC -fvisibility=hidden
PRELOAD_LDFLAGS = -shared -Wl,--version-script=preload/libsocktrace.map \
                  -Wl,-z,now -Wl,-soname,libsocktrace.so -Wl,--wrap=syscall

# It loads in any glibc from 2.17 (tests/t1010). No libdl: the next
# definition of a hooked function is read from the loaded objects' symbol
# tables (preload/next_symbol.c), which spares every process libdl's loading.
PRELOAD_LIBS = -lpthread

$(B)/obj/preload/%.o: preload/%.c | $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(PRELOAD_CFLAGS) -c $< -o $@

$(B)/san/preload/%.o: preload/%.c | $(DEPS) test-deps
	@mkdir -p $(@D)
	$(CC) $(PRELOAD_CFLAGS) $(SAN) -c $< -o $@

$(B)/libsocktrace.so: $(PRELOAD_OBJ) preload/libsocktrace.map
	$(CC) $(CFLAGS) $(PRELOAD_LDFLAGS) $(PRELOAD_OBJ) -o $@ $(PRELOAD_LIBS)

$(B)/san/libsocktrace.so: $(PRELOAD_SAN) preload/libsocktrace.map
	$(CC) $(CFLAGS) $(SAN) $(PRELOAD_LDFLAGS) $(PRELOAD_SAN) -o $@ $(PRELOAD_LIBS)

# make musl: the same library for musl images (Alpine), with musl-gcc
# (musl-tools); the glibc-only hooks drop out under __GLIBC__. musl-gcc
# sees neither the kernel's headers nor uthash.h in /usr/include, so
# build/musl/include links to them. The viewer is static, to run in any
# container; it gets strerrorname_np from pkg/musl/.
MUSL_CC   ?= musl-gcc
MUSL_INC   = $(B)/musl/include
MUSL_ARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
UTHASH_H   = $(firstword $(wildcard /usr/include/uthash.h /usr/local/include/uthash.h $(DEPS_INC)/uthash.h))
MUSL_BASE  = -std=gnu11 $(WARN) -MMD -MP -DST_VERSION_STRING='"$(VERSION)"' -DST_LIBDIR='"$(LIBDIR)"' -idirafter $(MUSL_INC)
MUSL_PRELOAD_OBJ = $(PRELOAD_SRC:%.c=$(B)/musl/obj/%.o)
MUSL_VIEWER_OBJ  = $(VIEWER_SRC:%.c=$(B)/musl/obj/%.o) $(B)/musl/obj/pkg/musl/strerrorname.o

musl: $(B)/libsocktrace-musl.so $(B)/socktrace-musl

$(MUSL_INC)/uthash.h: | $(DEPS)
	@command -v $(MUSL_CC) >/dev/null || { echo "make musl: $(MUSL_CC) not found (Debian: apt-get install musl-tools)" >&2; exit 1; }
	@mkdir -p $(@D)
	ln -sfn /usr/include/linux $(@D)/linux
	ln -sfn /usr/include/asm-generic $(@D)/asm-generic
	ln -sfn $(if $(wildcard /usr/include/$(MUSL_ARCH)/asm),/usr/include/$(MUSL_ARCH)/asm,/usr/include/asm) $(@D)/asm
	cp $(UTHASH_H) $@

$(B)/musl/obj/preload/%.o: preload/%.c | $(MUSL_INC)/uthash.h
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_BASE) $(CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(B)/libsocktrace-musl.so: $(MUSL_PRELOAD_OBJ) preload/libsocktrace.map
	$(MUSL_CC) $(CFLAGS) $(PRELOAD_LDFLAGS) $(MUSL_PRELOAD_OBJ) -o $@

# musl's sigsetjmp makes gcc see a clobber in snapshot.c where there is
# none (the variable is set again on either return)
$(B)/musl/obj/viewer/%.o: viewer/%.c | $(MUSL_INC)/uthash.h
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_BASE) $(CFLAGS) -Wno-clobbered -include pkg/musl/compat.h -Ipreload -c $< -o $@

$(B)/musl/errnames.h: /usr/include/asm-generic/errno-base.h /usr/include/asm-generic/errno.h
	@mkdir -p $(@D)
	sed -n -E 's/^#define[[:space:]]+(E[A-Z0-9]+)[[:space:]]+([0-9]+).*/[\2] = "\1",/p' $^ >$@

$(B)/musl/obj/pkg/musl/strerrorname.o: pkg/musl/strerrorname.c $(B)/musl/errnames.h | $(MUSL_INC)/uthash.h
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_BASE) $(CFLAGS) -I$(B)/musl -c $< -o $@

$(B)/socktrace-musl: $(MUSL_VIEWER_OBJ)
	$(MUSL_CC) $(CFLAGS) -static $(MUSL_VIEWER_OBJ) -o $@

# The viewer.
$(B)/obj/viewer/%.o: viewer/%.c | $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS) -Ipreload -c $< -o $@

$(B)/socktrace: $(VIEWER_OBJ)
	$(CC) $(CFLAGS) $(VIEWER_OBJ) -o $@

$(B)/examples/%: examples/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS) -D_GNU_SOURCE $< -o $@

UNIT_OBJ = $(filter-out $(B)/obj/viewer/main.o,$(VIEWER_OBJ))
$(B)/tests/%: tests/unit/%.c $(UNIT_OBJ)
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS) $(SAN) -Ipreload -Iviewer $< $(UNIT_OBJ) -o $@

# the preload's own symbol lookup, held against dlsym
$(B)/tests/test_next_symbol: tests/unit/test_next_symbol.c preload/next_symbol.c preload/next_symbol.h
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS) $(SAN) -Ipreload $< preload/next_symbol.c -o $@ -ldl

$(B)/bench/%: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS) -Ipreload $< -o $@

$(B)/tests/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS) $< -o $@ -lpthread

$(B)/tests/lib%.so: tests/helpers/lib/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE) $(CFLAGS) -fPIC -shared $< -o $@

# Built when clang and libFuzzer are there; otherwise the reason is kept
# in build/fuzz/build.log and the fuzz test skips.
$(FUZZER): tests/fuzz/fuzz_snapshot.c $(FUZZ_SRC) $(wildcard viewer/*.h preload/*.h) | $(DEPS) test-deps
	@mkdir -p $(@D)
	@$(FUZZ_CC) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Ipreload -Iviewer -idirafter $(DEPS_INC) \
	    tests/fuzz/fuzz_snapshot.c $(FUZZ_SRC) -o $@ 2>$(@D)/build.log || \
	    { rm -f $@; echo "fuzz target not built: $(FUZZ_CC) with libFuzzer missing (build/fuzz/build.log)"; }

# ThreadSanitizer: the preload and a stress program, built when the
# compiler has TSan (gcc needs libtsan); otherwise the TSan test skips.
TSAN     = $(B)/tsan/libsocktrace.so $(B)/tsan/tsanstress
$(B)/tsan/libsocktrace.so: $(PRELOAD_SRC) $(wildcard preload/*.h) | $(DEPS) test-deps
	@mkdir -p $(@D)
	@$(CC) -std=gnu11 -O1 -g -fPIC -fvisibility=hidden -fsanitize=thread -idirafter $(DEPS_INC) $(PRELOAD_LDFLAGS) \
	    $(PRELOAD_SRC) -o $@ -lpthread 2>$(@D)/build.log || \
	    { rm -f $@; echo "TSan build skipped: $(CC) -fsanitize=thread failed ($(@D)/build.log)"; }

$(B)/tsan/tsanstress: tests/helpers/tsanstress.c
	@mkdir -p $(@D)
	@$(CC) -std=gnu11 -O1 -g -fsanitize=thread $< -o $@ -lpthread 2>>$(@D)/build.log || rm -f $@

fuzz: all $(EXAMPLES) $(FUZZER)
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

check-build: all $(B)/san/libsocktrace.so $(EXAMPLES) $(UNIT_TESTS) $(HELPERS) $(FUZZER) $(TSAN)

test: test-deps check-build
	@tests/run.sh

# the same with two busy loads on the cores (no test may need an idle machine)
test-loaded: test-deps check-build
	@tests/stress-suite.sh

demo: all $(EXAMPLES)
	@tests/demo.sh

# libempty.so: an empty preload library, the spawn row's baseline
bench: all $(EXAMPLES) $(BENCHES) $(B)/tests/libempty.so
	@tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(B)/socktrace $(DESTDIR)$(BINDIR)/socktrace
	install -m 755 $(B)/libsocktrace.so $(DESTDIR)$(LIBDIR)/libsocktrace.so
	install -m 644 man/socktrace.1 $(DESTDIR)$(MANDIR)/man1/socktrace.1
	install -m 644 man/libsocktrace.7 $(DESTDIR)$(MANDIR)/man7/libsocktrace.7
	if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

# make deb: socktrace_VERSION_ARCH.deb in build/ (dpkg-deb, pkg/deb/)
deb:
	@VERSION=$(VERSION) B=$(B) pkg/deb/build.sh

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/socktrace $(DESTDIR)$(LIBDIR)/libsocktrace.so \
	      $(DESTDIR)$(MANDIR)/man1/socktrace.1 $(DESTDIR)$(MANDIR)/man7/libsocktrace.7
	if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

clean:
	rm -rf $(B)

.PHONY: all deps test-deps check-build test test-loaded demo bench fuzz install deb musl uninstall clean
-include $(shell find $(B) -name '*.d' 2>/dev/null)
