# Switchboard. `make help` lists the targets.
CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-missing-field-initializers -fno-strict-aliasing -fPIC -fstack-protector-strong -Ilib -I/usr/include/postgresql
# Hardening: bounds-checked libc calls where the compiler knows the sizes (needs the
# optimizer; left out of -O0 builds and of sanitizer builds, whose interceptors do the
# checking), position-independent executables, a read-only GOT bound at start.
ifeq ($(filter -O0 -fsanitize=%,$(CFLAGS)),)
override CFLAGS += -D_FORTIFY_SOURCE=2
endif
override LDFLAGS += -pie -Wl,-z,relro,-z,now
# The scripts (stack, test-e2e, bench) run the binaries of this build.
export SB_BUILD := $(abspath $(BUILD))
# Libraries of one group only: libldap for the auth group's directory sign-in.
LDLIBS_auth := -lldap -llber
LDLIBS  := -lxlsxwriter -lcsv -lpaho-mqtt3cs -lfcgi -lssl -lpq -ljson-c -ljwt -largon2 -lcrypto -lcurl -lm

LIB_SRC := $(wildcard lib/*/*.c lib/*/*/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
GROUPS  := $(notdir $(patsubst %/,%,$(wildcard cgi-bin/*/)))
# Handler code more than one group needs (cgi-bin/*.c): an archive, so each group
# links only the parts it calls.
CGI_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard cgi-bin/*.c))
TOOLS   := $(patsubst tools/%.c,$(BUILD)/bin/%,$(wildcard tools/*.c))
BINS    := $(GROUPS:%=$(BUILD)/bin/%) $(BUILD)/bin/bare-hello $(BUILD)/bin/worker $(BUILD)/bin/relay $(TOOLS)
UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
UNITS   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# libFuzzer targets: every tests/fuzz/fuzz_<name>.c, seeds in tests/fuzz/corpus/<name>/.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS  := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer

.SECONDARY:
.PHONY: all deps test check-layers check-openapi unit unit-asan unit-valgrind e2e e2e-asan run stop status bench clean help docs \
        fuzz fuzz-smoke fuzz-build fuzzers \
        install uninstall deb test-deploy
all: $(BUILD)/libswitchboard.a $(BINS) docs

help:
	@echo "make run       install what is missing, build, migrate, start the dev stack, print the URL"
	@echo "make stop      stop the dev stack"
	@echo "make test      unit tests (plain, ASan+UBSan, valgrind), fuzz smoke runs, end-to-end tests on a throwaway"
	@echo "               stack, then the end-to-end tests again against ASan+UBSan builds (fails on any report)"
	@echo "make unit      cmocka unit tests only"
	@echo "make check-layers  fail on an include under lib/ that points to a higher layer"
	@echo "make check-openapi docs/openapi.yaml is valid OpenAPI (swagger-parser) and lists every route"
	@echo "make e2e-asan  the end-to-end suite against ASan+UBSan builds of every binary"
	@echo "make fuzz      every libFuzzer target for FUZZ_SECONDS (60) each; make fuzz-smoke: FUZZ_SMOKE_SECONDS (5)"
	@echo "make bench     wrk against /api/v1/users/me and a bare FastCGI responder behind the same nginx"
	@echo "make install   install under PREFIX (/usr/local) and /etc/switchboard (DESTDIR honoured)"
	@echo "make uninstall remove what make install put under PREFIX (keeps /etc/switchboard)"
	@echo "make deb       build build-deb/switchboard_<version>_amd64.deb with debhelper"
	@echo "make test-deploy  package, lintian, install into a throwaway root, smoke-test behind nginx"
	@echo "make clean     remove build output (keeps var/)"

deps:
	@scripts/install-deps

# Each object depends on the headers it includes (compiler-written .d files, read below).
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"; $(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libswitchboard.a: $(LIB_OBJ)
	@ar rcs $@ $^

$(BUILD)/libcgi.a: $(CGI_OBJ)
	@ar rcs $@ $^
$(BUILD)/cgi-bin/%.o: override CFLAGS += -Icgi-bin

# One responder per endpoint group: every .c under cgi-bin/<group>/ plus the library.
define group_rule
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard cgi-bin/$(1)/*.c)) $(BUILD)/libcgi.a $(BUILD)/libswitchboard.a
	@mkdir -p $$(dir $$@)
	@echo "LD $$@"; $$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $(BUILD)/libcgi.a $(BUILD)/libswitchboard.a $$(LDLIBS_$(1)) $$(LDLIBS)
endef
$(foreach g,$(GROUPS),$(eval $(call group_rule,$(g))))

# The background worker: every .c under worker/ plus the library.
$(BUILD)/bin/worker: $(patsubst %.c,$(BUILD)/%.o,$(wildcard worker/*.c)) $(BUILD)/libswitchboard.a
	@mkdir -p $(dir $@)
	@echo "LD $@"; $(CC) $(CFLAGS) $(LDFLAGS) -Iworker -o $@ $(filter %.o,$^) $(BUILD)/libswitchboard.a $(LDLIBS)

# The MQTT relay (issue 18): every .c under relay/ plus the library and wslay.
$(BUILD)/bin/relay: $(patsubst %.c,$(BUILD)/%.o,$(wildcard relay/*.c)) $(BUILD)/libswitchboard.a
	@mkdir -p $(dir $@)
	@echo "LD $@"; $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libswitchboard.a -lwslay $(LDLIBS)

# Operator tools: one .c each, linked with the library.
$(BUILD)/bin/%: $(BUILD)/tools/%.o $(BUILD)/libswitchboard.a
	@mkdir -p $(dir $@)
	@echo "LD $@"; $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libswitchboard.a $(LDLIBS)

$(BUILD)/bin/bare-hello: $(BUILD)/bench/bare_hello.o
	@mkdir -p $(dir $@)
	@echo "LD $@"; $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lfcgi

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libswitchboard.a
	@mkdir -p $(dir $@)
	@echo "LD $@"; $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libswitchboard.a $(LDLIBS) -lcmocka

# One fuzzer per tests/fuzz/fuzz_<name>.c, linked with the library built for fuzzing.
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(BUILD)/libswitchboard.a
	@mkdir -p $(dir $@)
	@echo "LD $@"; $(CC) $(CFLAGS) -Itests/fuzz -fsanitize=fuzzer -o $@ $< $(BUILD)/libswitchboard.a $(LDLIBS)

fuzzers: $(FUZZERS)

fuzz-build:
	$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	  CFLAGS="$(SAN_FLAGS) -fno-sanitize-recover=all -fsanitize=fuzzer-no-link" LDFLAGS="-fsanitize=address,undefined" fuzzers

fuzz: fuzz-build
	FUZZ_BUILD=$(CURDIR)/build-fuzz scripts/fuzz $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	FUZZ_BUILD=$(CURDIR)/build-fuzz scripts/fuzz $(FUZZ_SMOKE_SECONDS)

docs: $(BUILD)/openapi.json
$(BUILD)/openapi.json: docs/openapi.yaml scripts/openapi-json scripts/openapi-samples
	@mkdir -p $(dir $@)
	@/usr/bin/python3 scripts/openapi-json $< $@
	@/usr/bin/python3 scripts/openapi-samples $@

unit: $(UNITS)
	@set -e; for t in $(UNITS); do echo "== $$t"; $$t; done

unit-asan:
	$(MAKE) --no-print-directory BUILD=build-asan CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" unit

unit-valgrind: $(UNITS)
	@set -e; for t in $(UNITS); do echo "== valgrind $$t"; \
	  valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 $$t >/dev/null; done

e2e: all
	scripts/test-e2e

# The end-to-end suite against responders, worker and tools built with ASan+UBSan;
# reports land in build-asan-e2e/reports and fail the run. The restart-under-load test
# does 3 rounds here (10 in the plain run): the sanitized builds are slow to start.
e2e-asan:
	$(MAKE) --no-print-directory BUILD=build-asan-e2e CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" all
	@rm -rf build-asan-e2e/reports && mkdir -p build-asan-e2e/reports
	@rc=0; SB_TEST_RESTARTS=$${SB_TEST_RESTARTS:-3} SB_BUILD=$(CURDIR)/build-asan-e2e ASAN_OPTIONS=log_path=$(CURDIR)/build-asan-e2e/reports/asan \
	  UBSAN_OPTIONS=print_stacktrace=1:log_path=$(CURDIR)/build-asan-e2e/reports/ubsan scripts/test-e2e $(E2E_ARGS) || rc=$$?; \
	if ls build-asan-e2e/reports/* >/dev/null 2>&1; then echo "sanitizer reports:"; head -n 40 build-asan-e2e/reports/*; exit 1; fi; \
	exit $$rc

check-layers:
	@scripts/check-layers

check-openapi:
	@scripts/check-openapi

test:
	@scripts/install-deps
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory check-layers
	$(MAKE) --no-print-directory check-openapi
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory unit-asan
	$(MAKE) --no-print-directory unit-valgrind
	$(MAKE) --no-print-directory fuzz-smoke
	scripts/test-e2e
	$(MAKE) --no-print-directory e2e-asan
	$(MAKE) --no-print-directory test-deploy

run:
	@scripts/install-deps
	$(MAKE) --no-print-directory all
	@scripts/stack start

stop:
	@scripts/stack stop

status:
	@scripts/stack status

bench:
	@scripts/install-deps
	$(MAKE) --no-print-directory all
	scripts/bench

clean:
	rm -rf build build-asan build-asan-e2e build-fuzz build-deb

include packaging/install.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
