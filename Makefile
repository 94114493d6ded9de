# flink-supervisor: build, test and benchmark. See README.md.
VERSION    := 0.1.0
CC         ?= cc
PYTHON     ?= /usr/bin/python3
BUILD      := build
# make V=1 shows the full compiler command lines.
Q          := $(if $(V),,@)

WARN       := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
              -Wvla -Wpointer-arith
COMMON     := -std=gnu11 -D_GNU_SOURCE -g -pthread -MMD -MP -DVERSION='"$(VERSION)"' $(WARN)
HARDEN     := -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LD  := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
SANITIZE   := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LIBS       := -pthread -lyaml

SRC        := $(wildcard supervisor/*.c)
LIB_SRC    := $(filter-out supervisor/main.c,$(SRC))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

OBJ        := $(SRC:supervisor/%.c=$(BUILD)/obj/%.o)
ASAN_OBJ   := $(SRC:supervisor/%.c=$(BUILD)/asan/obj/%.o)
ASAN_LIB   := $(LIB_SRC:supervisor/%.c=$(BUILD)/asan/obj/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
HELPERS    := $(BUILD)/testchild $(BUILD)/bench/siglat $(BUILD)/bench/orphanstorm

FLINK_VERSION ?= 1.20.5

.PHONY: all asan helpers unit deps flink-dist test test-integration test-asan bench clean distclean
all: $(BUILD)/flink-supervisor

$(BUILD)/obj/%.o: supervisor/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(HARDEN) $(CFLAGS) -c $< -o $@

$(BUILD)/flink-supervisor: $(OBJ)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(HARDEN) $(HARDEN_LD) $(LDFLAGS) $^ -o $@ $(LIBS)

$(BUILD)/asan/obj/%.o: supervisor/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(SANITIZE) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/flink-supervisor: $(ASAN_OBJ)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(SANITIZE) $^ -o $@ $(LIBS)
asan: $(BUILD)/asan/flink-supervisor

$(BUILD)/unit/%: tests/unit/%.c $(ASAN_LIB)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(SANITIZE) -Isupervisor $(filter %.c %.o,$^) -o $@ $(LIBS) -lcmocka

$(BUILD)/testchild: tests/helpers/testchild.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(HARDEN) $< -o $@

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(HARDEN) $< -o $@ -lm
helpers: $(HELPERS)

deps:
	@tests/install-deps.sh

# build/flink (FLINK_HOME); downloads are cached in build/cache.
flink-dist: deps
	@images/flink-dist.sh $(BUILD)/flink $(BUILD)/cache $(FLINK_VERSION)

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do $$t; done

test-integration: all helpers flink-dist
	$(PYTHON) -m pytest -q tests/integration

test-asan: asan helpers flink-dist
	SUPERVISOR_BIN=$(BUILD)/asan/flink-supervisor $(PYTHON) -m pytest -q tests/integration \
	    --ignore=tests/integration/test_valgrind.py

# The whole suite; what .ci/run runs. deps first: the machine may be new.
test: deps
	$(MAKE) all asan helpers $(UNIT_BIN)
	$(MAKE) unit
	$(MAKE) test-integration
	$(MAKE) test-asan

bench: deps all helpers
	$(PYTHON) bench/run.py

# Keeps the download cache: make distclean removes it too.
clean:
	rm -rf $(BUILD)/obj $(BUILD)/asan $(BUILD)/unit $(BUILD)/bench $(BUILD)/flink-supervisor $(BUILD)/testchild

distclean:
	rm -rf $(BUILD)

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(UNIT_BIN:=.d)
