# mbox2dovecot - from UW-IMAP mbox to Dovecot maildir
#
#   make                  build the library, the program and the tests
#   make check            run every test; ends with
#                         "N passed, N skipped, N todo, N failed"
#   make check-unit       the unit tests only (about a minute)
#   make check DEVELOPER=1   warnings are errors (-Werror), as in CI
#   make check SANITIZE=address,undefined
#   make bench            measure convert against a floor (see bench/)
#   make check-dovecot24 M2D_DOVECOT24_ROOT=DIR   the 2.4 syntax against a
#                         real Dovecot 2.4 in a chroot (see README)
#   make program          only the program and the catalogues
#   make install PREFIX=/usr/local DESTDIR= sysconfdir=/etc
#   make pot              extract the strings into po/mbox2dovecot.pot
#   make update-po        merge the .pot into every po/LANG.po

PACKAGE = mbox2dovecot
VERSION = 0.1

PREFIX ?= /usr/local
prefix ?= $(PREFIX)
bindir ?= $(prefix)/bin
datadir ?= $(prefix)/share
localedir ?= $(datadir)/locale
mandir ?= $(datadir)/man
sysconfdir ?= /etc
DESTDIR ?=

CC ?= cc
OPT ?= -O2 -g
# -Werror only for developers and CI (make DEVELOPER=1): a newer compiler
# with a new warning must not break a user's build.
WARN = -Wall -Wextra
ifneq ($(DEVELOPER),)
WARN += -Werror
endif
CPPFLAGS += -D_GNU_SOURCE -Iinclude -DLOCALEDIR='"$(localedir)"' \
	-DM2D_VERSION='"$(VERSION)"'
CFLAGS ?=
ALL_CFLAGS = -std=c11 $(WARN) $(OPT) $(CFLAGS)
# OpenSSL: STARTTLS in the IMAP test (imap-client.c)
OPENSSL_CFLAGS := $(shell pkg-config --cflags openssl)
OPENSSL_LIBS := $(shell pkg-config --libs openssl)
CPPFLAGS += $(OPENSSL_CFLAGS)
LDLIBS += -lconfuse -pthread $(OPENSSL_LIBS) -lm

ifdef SANITIZE
BUILD ?= build-san
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
# mbox2dovecot --version names them
$(BUILD)/src/cli/main.o: CPPFLAGS += -DM2D_SANITIZE='"$(SANITIZE)"'
else
BUILD ?= build
endif

# The core library, in layers, lowest first (README, "Layout"): each
# folder of src/ sees include/ and the private headers of its own layer
# and of the layers below it, and tests/tools/check-layers.sh stops the
# build on an include that points up.  The command line (src/cli) sits
# on top, beside ui/.
LAYERS = lib format migrate host runbook
LIB_SRCS = $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
CLI_SRCS = $(wildcard src/cli/*.c)
LIB_OBJS = $(LIB_SRCS:src/%.c=$(BUILD)/src/%.o)
# upto(L, LIST): LIST up to and including L;  layer_inc(FILE): the -I
# of the layers that FILE (src/LAYER/NAME.c) may see;  ALL_LAYER_INC:
# every layer, for the tests, tools and fuzz targets
upto = $(if $(filter $(1),$(firstword $(2))),$(1),$(firstword $(2)) \
	$(call upto,$(1),$(wordlist 2,99,$(2))))
layer_inc = $(foreach l,$(call upto,$(word 2,$(subst /, ,$(1))),\
	$(LAYERS) cli),-Isrc/$(l))
ALL_LAYER_INC = $(foreach l,$(LAYERS) cli,-Isrc/$(l))
CLI_OBJS = $(CLI_SRCS:src/%.c=$(BUILD)/src/%.o)
LIB = $(BUILD)/lib$(PACKAGE).a
PROG = $(BUILD)/$(PACKAGE)

UNIT_SRCS = $(wildcard tests/unit/test-*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# cclient-dump reads an mbox with UW-IMAP's c-client: only when
# libc-client2007e-dev is installed (the rollback test skips without it).
CCLIENT_H = $(wildcard /usr/include/c-client/c-client.h)
# (cclient-make too: UW's mbx, mix and MMDF folders, made by c-client)
TOOL_SRCS = $(filter-out tests/tools/cclient-dump.c tests/tools/cclient-make.c,\
	$(wildcard tests/tools/*.c))
ifneq ($(CCLIENT_H),)
TOOL_SRCS += tests/tools/cclient-dump.c tests/tools/cclient-make.c
endif
TOOL_BINS = $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

# The wizard (ui/): ncurses screens over the runbook, linked into the
# program and the ui unit tests only; the library never uses ncurses.
NCURSES_CFLAGS := $(shell pkg-config --cflags ncursesw 2>/dev/null)
NCURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || \
	echo -lncursesw -ltinfo)
UI_SRCS = $(wildcard ui/*.c)
UI_OBJS = $(UI_SRCS:ui/%.c=$(BUILD)/ui/%.o)
# The screens without the controller (wizard.c): what the headless
# rendering tests draw.
UI_VIEW_OBJS = $(filter-out $(BUILD)/ui/wizard.o,$(UI_OBJS))

HEADERS = $(wildcard include/*.h src/*/*.h tests/unit/*.h ui/*.h)
# Which headers each object and program includes: written by the compiler
# beside it (-MMD, FILE.d), read back on the next make; -MP keeps a
# removed header from breaking the build.
DEPFLAGS = -MMD -MP

# ---- translations (po/) ----
# po/POTFILES lists the sources xgettext reads (make pot rewrites it from
# src/*/*.c and ui/*.c); po/LINGUAS the languages.  make compiles each
# po/LANG.po into $(BUILD)/locale/LANG/LC_MESSAGES/mbox2dovecot.mo, so
# MBOX2DOVECOT_LOCALEDIR=$(BUILD)/locale runs translated from the build
# tree.
LINGUAS = $(shell cat po/LINGUAS 2>/dev/null)
PO_FILES = $(LINGUAS:%=po/%.po)
MO_FILES = $(LINGUAS:%=$(BUILD)/locale/%/LC_MESSAGES/$(PACKAGE).mo)
POT = po/$(PACKAGE).pot
XGETTEXT_OPTS = --keyword=_ --keyword=N_ --keyword=ngettext:1,2 \
	--from-code=UTF-8 --add-comments=TRANSLATORS: --language=C \
	--package-name=$(PACKAGE) --package-version=$(VERSION) \
	--msgid-bugs-address="the mbox2dovecot issue tracker" --sort-by-file

all: $(PROG) $(UNIT_BINS) $(TOOL_BINS) $(MO_FILES)

# Only what is installed (the packages build this, not the tests).
program: $(PROG) $(MO_FILES)

$(BUILD)/locale/%/LC_MESSAGES/$(PACKAGE).mo: po/%.po
	@mkdir -p $(@D)
	msgfmt --check -o $@ $<

pot:
	@ls src/*/*.c $(wildcard ui/*.c) | LC_ALL=C sort >po/POTFILES
	xgettext $(XGETTEXT_OPTS) -f po/POTFILES -o $(POT)

update-po: pot
	@for l in $(LINGUAS); do \
		echo "po/$$l.po:"; \
		msgmerge --quiet --update --backup=none --previous \
			po/$$l.po $(POT) || exit 1; \
		msgfmt --check --statistics -o /dev/null po/$$l.po; \
	done

# make check: every catalogue compiles cleanly (format strings included)
# and the manual pages lint clean, before the tests run.
MANPAGES = man/$(PACKAGE).1 man/$(PACKAGE).conf.5

check-po:
	@for p in $(PO_FILES); do \
		printf '%s: ' $$p; \
		msgfmt --check --statistics -o /dev/null $$p 2>&1 || exit 1; \
	done

check-man:
	@command -v mandoc >/dev/null || \
		{ echo "check-man: mandoc is not installed" >&2; exit 1; }
	mandoc -Tlint -Wwarning $(MANPAGES)
	@# groff's warnings too, where man-db is installed
	@if command -v man >/dev/null && command -v groff >/dev/null; then \
	for m in $(MANPAGES); do \
		w=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 \
			-l $$m 2>&1 >/dev/null); \
		if [ -n "$$w" ]; then echo "$$m: $$w" >&2; exit 1; fi; \
	done; fi

.PHONY: pot update-po check-po check-man
# ---- end translations ----

$(BUILD)/src/%.o: src/%.c $(BUILD)/layers.ok
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(call layer_inc,$<) $(DEPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The direction of the arrows, checked before anything is compiled.
$(BUILD)/layers.ok: tests/tools/check-layers.sh $(HEADERS) $(LIB_SRCS) \
		$(CLI_SRCS) $(wildcard ui/*.c)
	@mkdir -p $(@D)
	@sh tests/tools/check-layers.sh
	@touch $@

# The command line calls the wizard through ui/wizard.h (no curses there).
$(BUILD)/src/cli/cli-runbook.o: CPPFLAGS += -Iui

$(BUILD)/ui/%.o: ui/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iui -Isrc/lib $(NCURSES_CFLAGS) $(DEPFLAGS) $(ALL_CFLAGS) \
		-c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(PROG): $(CLI_OBJS) $(UI_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(UI_OBJS) $(LIB) $(LDLIBS) \
		$(NCURSES_LIBS)

# Fault injection: these system calls of the library go through the
# test's __wrap_ functions, which fail on demand.
$(BUILD)/tests/test-convert: WRAP = \
	-Wl,--wrap=write,--wrap=renameat,--wrap=renameat2,--wrap=syncfs
$(BUILD)/tests/test-journal-faults: WRAP = \
	-Wl,--wrap=write,--wrap=fdatasync,--wrap=fsync,--wrap=renameat \
	-Wl,--wrap=fflush,--wrap=fclose

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_LAYER_INC) $(DEPFLAGS) $(ALL_CFLAGS) \
		$(LDFLAGS) $(WRAP) -o $@ \
		$< $(LIB) $(LDLIBS) -lcmocka

# c-client's headers are old C: its own warnings are not ours
# (cclient-view.c includes them; the differential fuzz target uses it too)
CCLIENT_VIEW = tests/tools/cclient/cclient-view.c \
	tests/tools/cclient/cclient-view.h
# (and never sanitized: c-client is the oracle, not our code, and leaks
# what it keeps for the life of the process)
CCLIENT_LDFLAGS = $(filter-out -fsanitize=%,$(LDFLAGS))
$(BUILD)/tools/cclient-dump: tests/tools/cclient-dump.c $(CCLIENT_VIEW)
	@mkdir -p $(@D)
	$(CC) -I/usr/include/c-client -Itests/tools/cclient $(OPT) \
		$(CCLIENT_LDFLAGS) -w -o $@ $< \
		tests/tools/cclient/cclient-view.c -lc-client
$(BUILD)/tools/cclient-make: tests/tools/cclient-make.c $(CCLIENT_VIEW)
	@mkdir -p $(@D)
	$(CC) -I/usr/include/c-client -Itests/tools/cclient $(OPT) \
		$(CCLIENT_LDFLAGS) -w -o $@ $< \
		tests/tools/cclient/cclient-view.c -lc-client

# The ui tests: the screens drawn headless (newterm on /dev/null).
$(BUILD)/tests/test-ui-%: tests/unit/test-ui-%.c $(UI_VIEW_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_LAYER_INC) -Iui $(NCURSES_CFLAGS) $(DEPFLAGS) \
		$(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(UI_VIEW_OBJS) $(LIB) $(LDLIBS) \
		$(NCURSES_LIBS) -lcmocka

$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_LAYER_INC) $(DEPFLAGS) $(ALL_CFLAGS) \
		$(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

check: all check-po check-man
	@BUILD=$(BUILD) bash tests/run-tests.sh

# Only the unit tests (tests/unit/): no Dovecot, no Postfix, no tmux.
check-unit: $(UNIT_BINS)
	@BUILD=$(BUILD) bash tests/run-tests.sh --unit

# The unit tests under valgrind (a plain build: not with SANITIZE).
valgrind: all
	@BUILD=$(BUILD) M2D_VALGRIND=1 bash tests/run-tests.sh

bench: all
	@BUILD=$(BUILD) sh bench/run-bench.sh

# Our Dovecot 2.4 output read and run by a real 2.4 in a Debian 13 chroot
# (tests/tools/make-trixie-chroot.sh): root only, not part of check.
check-dovecot24: all
	@BUILD=$(BUILD) sh tests/tools/check-dovecot24.sh $(M2D_DOVECOT24_ROOT)

demo: all
	@BUILD=$(BUILD) sh tests/demo.sh

# The sample configuration goes beside the admin's: an existing
# $(sysconfdir)/mbox2dovecot.conf is never touched.
install: program
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1 \
		$(DESTDIR)$(mandir)/man5 $(DESTDIR)$(sysconfdir)
	install -m 0755 $(PROG) $(DESTDIR)$(bindir)/$(PACKAGE)
	install -m 0644 man/$(PACKAGE).1 $(DESTDIR)$(mandir)/man1/
	install -m 0644 man/$(PACKAGE).conf.5 $(DESTDIR)$(mandir)/man5/
	install -m 0644 $(PACKAGE).conf.sample $(DESTDIR)$(sysconfdir)/
	@for l in $(LINGUAS); do \
		d=$(DESTDIR)$(localedir)/$$l/LC_MESSAGES; \
		echo "install $$d/$(PACKAGE).mo"; \
		install -d $$d && \
		install -m 0644 $(BUILD)/locale/$$l/LC_MESSAGES/$(PACKAGE).mo \
			$$d/ || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(bindir)/$(PACKAGE)
	rm -f $(DESTDIR)$(mandir)/man1/$(PACKAGE).1
	rm -f $(DESTDIR)$(mandir)/man5/$(PACKAGE).conf.5
	rm -f $(DESTDIR)$(sysconfdir)/$(PACKAGE).conf.sample
	for l in $(LINGUAS); do \
		rm -f $(DESTDIR)$(localedir)/$$l/LC_MESSAGES/$(PACKAGE).mo; \
	done

# ---- fuzzing (make fuzz) ----
# libFuzzer targets (tests/fuzz/fuzz-*.c, see tests/fuzz/README), built with
# clang into build-fuzz/ apart from build/:
#   make fuzz FUZZ_TIME=30    regressions, then each target N s on a copy
#                             of its corpus; fails when a target crashes
#   make fuzz-build           only build them
#   make fuzz FUZZ_TARGETS="mutf7 journal"   only these
FUZZ_CC = clang
FUZZ_TIME = 30
FUZZ_BUILD = build-fuzz
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -Wall -Wextra -O1 -g $(FUZZ_SAN)
FUZZ_SRCS = $(wildcard tests/fuzz/fuzz-*.c)
# the differential target links c-client: only when its header exists
ifeq ($(CCLIENT_H),)
FUZZ_SRCS := $(filter-out tests/fuzz/fuzz-differential.c,$(FUZZ_SRCS))
endif
FUZZ_ALL = $(FUZZ_SRCS:tests/fuzz/fuzz-%.c=%)
FUZZ_TARGETS = $(FUZZ_ALL)
FUZZ_BINS = $(FUZZ_ALL:%=$(FUZZ_BUILD)/fuzz-%)
FUZZ_LIB_OBJS = $(LIB_SRCS:src/%.c=$(FUZZ_BUILD)/src/%.o)
FUZZ_LIB = $(FUZZ_BUILD)/lib$(PACKAGE).a

$(FUZZ_BUILD)/src/%.o: src/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(call layer_inc,$<) $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer-no-link \
		-c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz-common.h \
		$(FUZZ_LIB) $(HEADERS)
	$(FUZZ_CC) $(CPPFLAGS) $(ALL_LAYER_INC) $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer -o $@ $< \
		$(FUZZ_LIB) -lconfuse -pthread $(OPENSSL_LIBS)

# c-client's side (cclient-view.c, its old headers: -w), ours as usual
$(FUZZ_BUILD)/cclient-view.o: $(CCLIENT_VIEW)
	@mkdir -p $(@D)
	$(FUZZ_CC) -I/usr/include/c-client -Itests/tools/cclient \
		$(FUZZ_CFLAGS) -w -c -o $@ tests/tools/cclient/cclient-view.c

$(FUZZ_BUILD)/fuzz-differential: tests/fuzz/fuzz-differential.c \
		tests/fuzz/fuzz-common.h $(FUZZ_BUILD)/cclient-view.o $(FUZZ_LIB)
	$(FUZZ_CC) $(CPPFLAGS) $(ALL_LAYER_INC) -Itests/tools/cclient \
		$(FUZZ_CFLAGS) \
		-fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/cclient-view.o \
		$(FUZZ_LIB) -lc-client -lconfuse -pthread $(OPENSSL_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@sh tests/fuzz/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ_TARGETS)

.PHONY: fuzz fuzz-build
# ---- end fuzzing ----

# make clean: the plain, the SANITIZE and the fuzz build directories;
# make clean BUILD=DIR: DIR only.
ifeq ($(origin BUILD),file)
CLEAN_DIRS = build build-san $(FUZZ_BUILD)
else
CLEAN_DIRS = $(BUILD)
endif
clean:
	rm -rf $(CLEAN_DIRS)

# What each object includes (see DEPFLAGS).
-include $(wildcard $(BUILD)/src/*/*.d $(BUILD)/ui/*.d $(BUILD)/tests/*.d \
	$(BUILD)/tools/*.d)

.PHONY: all program check check-unit valgrind bench demo install uninstall \
	clean check-dovecot24
.SUFFIXES:
.SECONDARY:
