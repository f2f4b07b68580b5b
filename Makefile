# ovsched - one plain Makefile (see docs/building.md).
#
#   make            build/ovsched, the web UI in build/ui/, compile_commands.json
#   make SAN=1      the same under ASan+UBSan, in build/san/
#   make test       install what is missing, build, run every suite
#   make run        install what is missing, build, run
#   make bench      performance figures (never part of make test)
#   make fuzz       the open-ended libFuzzer search of every parser (FUZZ_SECONDS each)
#   make fuzz-merge add what make fuzz found (new coverage) to tests/fuzz/corpus/
#   make deps       install the Debian packages the build and tests need
#   make format     clang-format every C file in place

CC      ?= cc
PKGS    := glib-2.0 jansson libuv sqlite3 libpq libmicrohttpd libcurl libsodium hiredis
SAN     ?= 0
OPT     ?= -O2

ifeq ($(SAN),1)
BUILD   := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT     := -O1
else
BUILD   := build
SANFLAGS :=
endif

# The version lives in one place, the VERSION file: the binary (ovsched
# --version), the man page and the Debian package all read it from here.
VERSION := $(shell cat VERSION)

# Where `make install` puts things (DESTDIR is prepended to each; docs/building.md).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DATADIR     ?= $(PREFIX)/share
UIDIR       ?= $(DATADIR)/ovsched/ui
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/ovsched
UNITDIR     ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
SYSCONFDIR  ?= /etc

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) $(SANFLAGS) -Isrc $(PKG_CFLAGS)
# Only the file that prints the version gets it, so a new VERSION rebuilds
# one object, not the tree.
VERSION_CFLAGS := -DOVSCHED_VERSION='"$(VERSION)"'
# libwslay-dev ships no .pc file (Debian 12): link it by name.
LDLIBS  := $(PKG_LIBS) -lwslay -lm -lpthread
TEST_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

SRCS      := $(sort $(wildcard src/*/*.c))
LIB_OBJS  := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/main.o
UNIT_SRCS := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Non-test sources beside the tests (the brute-force reference) link into each.
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(sort $(wildcard tests/unit/*/*.c)))
BIN       := $(BUILD)/ovsched

.PHONY: all test check run bench fuzz fuzz-build fuzz-merge deps format clean unit ui man install uninstall deb FORCE
.DEFAULT_GOAL := all

all: $(BIN) compile_commands.json ui

# The web UI (docs/ui.md): TypeScript in ui/, bundled by esbuild into build/ui/,
# which the daemon serves.  npm ci runs again only when the lock file changes.
UI_OUT  := build/ui
UI_SRCS := $(wildcard ui/src/*) ui/build.mjs ui/tsconfig.json ui/package-lock.json

ui: $(UI_OUT)/index.html

ui/node_modules/.package-lock.json: ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund --loglevel=error

$(UI_OUT)/index.html: $(UI_SRCS) ui/node_modules/.package-lock.json
	cd ui && node_modules/.bin/tsc --noEmit -p . && OUT=$(CURDIR)/$(UI_OUT) node build.mjs

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/cli/cli_help.o: CFLAGS += $(VERSION_CFLAGS)
$(BUILD)/obj/cli/cli_help.o: VERSION

$(BIN): $(LIB_OBJS) $(MAIN_OBJ)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(MAIN_OBJ): src/main.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) $(UNIT_HELPERS) $(wildcard tests/unit/*.h tests/unit/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -I$(dir $<) $< $(filter $(dir $<)%,$(UNIT_HELPERS)) $(LIB_OBJS) -o $@ $(LDLIBS) $(TEST_LIBS)

unit: $(UNIT_BINS)

compile_commands.json: Makefile
	@{ echo '['; sep=''; for f in $(SRCS) src/main.c $(UNIT_SRCS); do \
	  printf '%s{"directory":"%s","file":"%s","command":"%s %s -c %s"}\n' "$$sep" "$(CURDIR)" \
	    "$$f" "$(CC)" "$(CFLAGS) -Itests/unit" "$$f"; sep=','; done; echo ']'; } > $@

# The fuzz targets need clang's libFuzzer; they link the objects of a clang build.
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -Isrc $(PKG_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/%: tests/fuzz/%.c $(SRCS) $(wildcard src/*/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $< $(SRCS) -o $@ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

# ---- the manual, install, the Debian package (docs/building.md) -------------

# The man page and the completions are written by the binary from its command
# table (src/cli/cli_commands.c), so they say what the program accepts.
man: build/ovsched.1

build/ovsched.1: $(BIN)
	$(BIN) help --man > $@.tmp && mv $@.tmp $@

build/completion/ovsched build/completion/_ovsched: $(BIN)
	@mkdir -p build/completion
	$(BIN) completion bash > build/completion/ovsched
	$(BIN) completion zsh > build/completion/_ovsched

# The installed binary is linked from the same objects with one more: the
# folder its UI is installed in (a weak empty default in src/ui/ui_static.c).
# uidir.c is rewritten only when UIDIR changes.
INSTALL_BIN := $(BUILD)/install/ovsched

$(BUILD)/install/uidir.c: FORCE
	@mkdir -p $(dir $@)
	@printf '/* written by the Makefile for UIDIR (see src/ui/ui_static.h) */\nconst char ui_static_install_dir[] = "%s";\n' '$(UIDIR)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/install/uidir.o: $(BUILD)/install/uidir.c
	$(CC) $(CFLAGS) -c $< -o $@

$(INSTALL_BIN): $(LIB_OBJS) $(MAIN_OBJ) $(BUILD)/install/uidir.o
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

install: $(INSTALL_BIN) ui build/ovsched.1 build/completion/ovsched build/completion/_ovsched
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UIDIR)/assets $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(UNITDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/ovsched
	rm -rf $(DESTDIR)$(UIDIR)/assets/*
	install -m 0644 $(UI_OUT)/index.html $(UI_OUT)/favicon.svg $(DESTDIR)$(UIDIR)/
	@# Source maps stay in the build tree: they double the size and only a
	@# debugger opened on the page asks for them.
	install -m 0644 $(filter-out %.map,$(wildcard $(UI_OUT)/assets/*)) $(DESTDIR)$(UIDIR)/assets/
	install -m 0644 build/ovsched.1 $(DESTDIR)$(MANDIR)/man1/ovsched.1
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(wildcard docs/*.md) $(DESTDIR)$(DOCDIR)/docs/
	sed -e 's|/usr/local/bin/ovsched|$(BINDIR)/ovsched|g' \
	    -e 's|/usr/local/share/doc/ovsched|$(DOCDIR)|g' \
	    -e 's|/etc/ovsched|$(SYSCONFDIR)/ovsched|g' \
	    packaging/ovsched.service > $(DESTDIR)$(UNITDIR)/ovsched.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/ovsched.service
	install -m 0644 build/completion/ovsched $(DESTDIR)$(BASHCOMPDIR)/ovsched
	install -m 0644 build/completion/_ovsched $(DESTDIR)$(ZSHCOMPDIR)/_ovsched
	@# The settings file is the admin's: never overwritten.
	install -d $(DESTDIR)$(SYSCONFDIR)/ovsched
	test -e $(DESTDIR)$(SYSCONFDIR)/ovsched/env || \
	  install -m 0600 packaging/ovsched.env $(DESTDIR)$(SYSCONFDIR)/ovsched/env

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ovsched $(DESTDIR)$(MANDIR)/man1/ovsched.1 \
	  $(DESTDIR)$(UNITDIR)/ovsched.service $(DESTDIR)$(BASHCOMPDIR)/ovsched \
	  $(DESTDIR)$(ZSHCOMPDIR)/_ovsched
	rm -rf $(DESTDIR)$(UIDIR) $(DESTDIR)$(DOCDIR)
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/ovsched (settings) and the data folders"

# A Debian package of the install under /usr, built with dpkg-deb (no
# debhelper): packaging/debian/ holds the maintainer scripts and the control
# template; scripts/deb.sh fills in the version, architecture, size and the
# library dependencies (dpkg-shlibdeps).
DEB_ROOT := build/deb/root
DEB_FILE  = build/deb/ovsched_$(VERSION)_$(shell dpkg --print-architecture).deb

deb:
	rm -rf $(DEB_ROOT)
	@$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(DEB_ROOT) PREFIX=/usr \
	  UNITDIR=/lib/systemd/system SYSCONFDIR=/etc ZSHCOMPDIR=/usr/share/zsh/vendor-completions
	scripts/deb.sh $(DEB_ROOT) $(VERSION) $(DEB_FILE)

# Every entry point installs what it needs first, then re-reads this Makefile so
# that pkg-config sees the freshly installed packages.
test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory check

check:
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory SAN=1 all unit
	@$(MAKE) --no-print-directory fuzz-build
	@tests/run-all.sh

run:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

bench:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all build/bench/bench_cron build/bench/bench_store build/bench/bench_auth build/bench/bench_graph
	@build/bench/bench_cron
	@build/bench/bench_graph
	@/usr/bin/python3 bench/bench_graph_api.py build/ovsched
	@bench/bench_batch.sh build/ovsched
	@/usr/bin/python3 bench/bench_jobsdir.py build/ovsched
	@build/bench/bench_store
	@build/bench/bench_store postgres
	@build/bench/bench_auth
	@node bench/bench_ui.mjs build/ovsched 10000
	@/usr/bin/python3 bench/bench_patterns.py build/ovsched
	@$(MAKE) --no-print-directory build/bench/bench_daemon && build/bench/bench_daemon build/ovsched
	@OVSCHED_BENCH_STORE=postgres build/bench/bench_daemon build/ovsched
	@$(MAKE) --no-print-directory build/bench/bench_events && build/bench/bench_events build/ovsched

build/bench/%: bench/%.c $(LIB_OBJS) $(wildcard bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench $< $(LIB_OBJS) -o $@ $(LDLIBS)

fuzz:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-300} tests/fuzz/run.sh search

fuzz-merge:
	@$(MAKE) --no-print-directory fuzz-build
	@tests/fuzz/run.sh merge

deps:
	@scripts/deps.sh

format:
	clang-format -i $(SRCS) src/main.c $(wildcard src/*/*.h) $(UNIT_SRCS) $(wildcard tests/unit/*.h) \
	  $(FUZZ_SRCS) $(wildcard bench/*.c)

clean:
	rm -rf build compile_commands.json

FORCE:
