# llm - a multi-provider LLM toolset.  See README.md.
#
#   make                 build bin/llm-*
#   make check           unit and end-to-end tests, built with ASan+UBSan
#   make check VALGRIND=1  the same tests, unsanitized, under valgrind
#   make demo            run chat, compare, chain and log against the
#                        bundled local test provider
#   make bench           benchmarks; prints ratios, asserts nothing
#   make install PREFIX=/usr/local DESTDIR=

VERSION = 0.1.0
PREFIX ?= /usr/local
BINDIR_INST = $(PREFIX)/bin
DATADIR = $(PREFIX)/share/llm
MANDIR = $(PREFIX)/share/man
BUILD ?= build
BIN ?= bin
PKG_CONFIG ?= pkg-config
PKGS = libcurl libcjson inih sqlite3

CC ?= cc
CFLAGS ?= -O2 -g
WERROR ?= -Werror
WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
       -Wmissing-prototypes -Wold-style-definition -Wwrite-strings \
       -Wpointer-arith -Wformat=2 -Wvla -Wundef -fno-common
ifdef SANITIZE
SAN = -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
ALL_CPPFLAGS = -Ilib -D_POSIX_C_SOURCE=200809L \
	-DLLM_VERSION='"$(VERSION)"' -DLLM_DATADIR='"$(DATADIR)"' \
	$(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARN) $(WERROR) $(SAN) $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)
LIBS_ALL = $(PKG_LIBS) -lpthread -lm

LIB_SRC := $(sort $(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_SRC := $(sort $(wildcard cmd/*.c))
PROGRAMS := $(CMD_SRC:cmd/%.c=$(BIN)/%)
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
FAKE = $(BUILD)/tests/fake/fakellm
TOOLS = $(FAKE) $(BUILD)/tests/bench/rss
E2E := $(sort $(wildcard tests/t[0-9]*.sh))

all: $(PROGRAMS)

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h) | $(BUILD)/lib
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The installed llm.ini's path is compiled in: rebuild cfg.o when it changes.
$(BUILD)/datadir.stamp: FORCE | $(BUILD)/lib
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' >$@
$(BUILD)/lib/cfg.o: $(BUILD)/datadir.stamp

$(BUILD)/libllm.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(BIN)/%: cmd/%.c $(BUILD)/libllm.a $(wildcard lib/*.h) | $(BIN)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(BUILD)/libllm.a $(LIBS_ALL)

$(BUILD)/tests/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libllm.a \
		| $(BUILD)/tests/unit
	$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(ALL_LDFLAGS) \
		-o $@ $< $(BUILD)/libllm.a $(LIBS_ALL)

# The fake shares only SHA-256 (for its SigV4 verifier) with lib/.
$(BUILD)/tests/fake/%: tests/fake/%.c lib/sha256.c lib/sha256.h \
		$(wildcard tests/fake/*.h) | $(BUILD)/tests/fake
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ \
		$(filter %.c,$^) $(LIBS_ALL)

$(BUILD)/tests/bench/%: tests/bench/%.c | $(BUILD)/tests/bench
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

$(BUILD)/lib $(BUILD)/tests/unit $(BUILD)/tests/fake $(BUILD)/tests/bench $(BIN):
	mkdir -p $@

tools: $(PROGRAMS) $(UNIT_BIN) $(TOOLS)

# The tests run on a separate sanitized build, so that bin/ stays the
# plain one.  VALGRIND=1 runs an unsanitized build under valgrind instead.
ifdef VALGRIND
CHECK_VARS = BUILD=build/vg BIN=build/vg/bin
else
CHECK_VARS = BUILD=build/san BIN=build/san/bin SANITIZE=address,undefined
endif
CHECK_DIR = $(if $(VALGRIND),build/vg,build/san)

check:
	$(MAKE) --no-print-directory $(CHECK_VARS) tools
	LLM_BUILD=$(CURDIR)/$(CHECK_DIR) LLM_VALGRIND=$(VALGRIND) \
		prove -j2 --exec '' $(CHECK_DIR)/tests/unit/test-* tests/t[0-9]*.sh

test: check

demo: all $(FAKE)
	@sh tests/demo.sh

bench:
	$(MAKE) --no-print-directory BUILD=build/bench BIN=build/bench/bin \
		CFLAGS='-O2' tools
	@LLM_BUILD=$(CURDIR)/build/bench sh tests/bench/run.sh

lint:
	@! grep -nE '\<(sprintf|strcpy|strcat|strncpy|gets|atoi|strtok)\(' \
		lib/*.c cmd/*.c || { echo 'lint: banned function'; exit 1; }
	@! grep -nE '#include <(curl/|cjson/|ini\.h|sqlite3\.h)' cmd/*.c || \
		{ echo 'lint: cmd/ must not include library headers'; exit 1; }
	@if command -v shellcheck >/dev/null; then \
		shellcheck -s sh -e SC1091,SC2016,SC2034,SC2043 \
			tests/*.sh tests/bench/*.sh .ci/run && \
		shellcheck -s bash completions/*.bash; fi
	@echo lint: ok

install: all
	install -d $(DESTDIR)$(BINDIR_INST) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(DATADIR)/examples \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(PROGRAMS) $(DESTDIR)$(BINDIR_INST)
	install -m 644 share/man/man1/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 llm.ini $(DESTDIR)$(DATADIR)/llm.ini
	if ls share/examples/* >/dev/null 2>&1; then \
		install -m 644 share/examples/* $(DESTDIR)$(DATADIR)/examples; fi
	for f in completions/*.bash; do \
		install -m 644 $$f \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$(basename $$f .bash); \
	done
	install -m 644 completions/_llm-* $(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 644 completions/*.fish \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d

uninstall:
	rm -f $(PROGRAMS:$(BIN)/%=$(DESTDIR)$(BINDIR_INST)/%)
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build bin

.PHONY: all tools check test demo bench lint install uninstall clean FORCE
.DELETE_ON_ERROR:
