# flink-supervisor: build, test and benchmark. See README.md.
VERSION    := 0.1.0
CC         ?= cc
PYTHON     ?= /usr/bin/python3
BUILD      := build
# make V=1 shows the full compiler command lines.
Q          := $(if $(V),,@)

WARN       := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
              -Wvla -Wpointer-arith
STRICT     := -Wconversion -Wsign-conversion -Wformat-truncation=2 -Wcast-qual
COMMON     := -std=gnu11 -D_GNU_SOURCE -g -pthread -MMD -MP -DVERSION='"$(VERSION)"' -Isupervisor $(WARN) $(STRICT)
# A toolchain that defines _FORTIFY_SOURCE itself (Debian's, Ubuntu's) keeps
# its level: defining it again is a redefinition warning, and so an error.
FORTIFY    := $(if $(shell echo | $(CC) -O2 -dM -E - 2>/dev/null | grep -w _FORTIFY_SOURCE),,-D_FORTIFY_SOURCE=2)
HARDEN     := -O2 $(FORTIFY) -fstack-protector-strong -fPIE
HARDEN_LD  := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
SANITIZE   := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
PKG_CONFIG ?= pkg-config
# libzookeeper ships no pkg-config file; libmicrohttpd and libcurl are loaded
# at run time (integrations/health.c, http.c), only when used: their headers only.
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags yaml-0.1 jansson libcurl libmicrohttpd)
LIBS       := -pthread $(shell $(PKG_CONFIG) --libs yaml-0.1 jansson) -lzookeeper_mt -ldl
# libzookeeper_mt's header declares its synchronous API only under THREADED:
# the files that include it, and only those.
ZK_USERS   := integrations/zk app/zkpush
# make WITH_SYSTEMD=1: sd_notify readiness and watchdog (notify.c), linking
# libsystemd; the default binary neither speaks it nor links the library.
WITH_SYSTEMD ?=
SYSTEMD_DEF := $(if $(filter 1,$(WITH_SYSTEMD)),-DWITH_SYSTEMD)
SYSTEMD_LIB := $(if $(filter 1,$(WITH_SYSTEMD)),$(shell $(PKG_CONFIG) --libs libsystemd))

SRC        := $(wildcard supervisor/*/*.c)
LIB_SRC    := $(filter-out supervisor/app/main.c,$(SRC))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

OBJ        := $(SRC:supervisor/%.c=$(BUILD)/obj/%.o)
ASAN_OBJ   := $(SRC:supervisor/%.c=$(BUILD)/asan/obj/%.o)
ASAN_LIB   := $(LIB_SRC:supervisor/%.c=$(BUILD)/asan/obj/%.o)
SD_OBJ     := $(SRC:supervisor/%.c=$(BUILD)/systemd/obj/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
HELPERS    := $(BUILD)/testchild $(BUILD)/bench/siglat
$(foreach f,$(ZK_USERS),$(eval $(BUILD)/obj/$(f).o $(BUILD)/asan/obj/$(f).o $(BUILD)/systemd/obj/$(f).o: EXTRA := -DTHREADED))

# The default release (the 1.20 LTS line): build/flink and
# flink-appliance:latest. Another pinned one (images/flink-dist.sha256) goes
# to build/flink-<version> and flink-appliance:<version>.
FLINK_DEFAULT := 1.20.5
FLINK_VERSION ?= $(FLINK_DEFAULT)
IS_DEFAULT := $(filter $(FLINK_DEFAULT),$(FLINK_VERSION))
FLINK_DIST := $(BUILD)/flink$(if $(IS_DEFAULT),,-$(FLINK_VERSION))
# The newest 2.x release, which the end-to-end tests also run against.
FLINK2_VERSION ?= 2.3.0
FUZZ_SECONDS ?= 60
IMAGE      ?= flink-appliance:$(if $(IS_DEFAULT),latest,$(FLINK_VERSION))
BASE_TAG   ?= flink-appliance-base:bookworm
ZK_IMAGE   ?= flink-appliance-zookeeper:latest
COMPOSE    ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
PROJECT    ?= flink-appliance
UP_TIMEOUT ?= 300
FUZZ_SRC   := supervisor/config/conf.c supervisor/config/confyaml.c supervisor/base/buf.c supervisor/base/fmt.c

.PHONY: chaos docs universe bench-appmaster bench-jobcluster layers check all asan systemd helpers unit deps flink-dist flink-dist-2 fuzz image zk-image up down test-system test test-integration test-asan bench clean distclean FORCE
all: $(BUILD)/flink-supervisor

$(BUILD)/obj/%.o: supervisor/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(PKG_CFLAGS) $(EXTRA) $(HARDEN) $(SYSTEMD_DEF) $(CFLAGS) -c $< -o $@

# notify.o is rebuilt (and the binary relinked) when WITH_SYSTEMD changes
# between runs; the stamp is rewritten only then.
$(BUILD)/obj/integrations/notify.o: $(BUILD)/obj/with-systemd
$(BUILD)/obj/with-systemd: FORCE
	@mkdir -p $(@D)
	@echo '$(WITH_SYSTEMD)' | cmp -s - $@ || echo '$(WITH_SYSTEMD)' > $@
FORCE:

$(BUILD)/flink-supervisor: $(OBJ)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(HARDEN) $(HARDEN_LD) $(LDFLAGS) $^ -o $@ $(LIBS) $(SYSTEMD_LIB)

# Always with libsystemd, whatever WITH_SYSTEMD says: the tests run it.
$(BUILD)/systemd/obj/%.o: supervisor/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(PKG_CFLAGS) $(EXTRA) $(HARDEN) -DWITH_SYSTEMD $(CFLAGS) -c $< -o $@

$(BUILD)/systemd/flink-supervisor: $(SD_OBJ)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(HARDEN) $(HARDEN_LD) $(LDFLAGS) $^ -o $@ $(LIBS) $(shell $(PKG_CONFIG) --libs libsystemd)
systemd: $(BUILD)/systemd/flink-supervisor

$(BUILD)/asan/obj/%.o: supervisor/%.c
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(PKG_CFLAGS) $(EXTRA) $(SANITIZE) $(CFLAGS) -c $< -o $@

$(BUILD)/asan/flink-supervisor: $(ASAN_OBJ)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(SANITIZE) $^ -o $@ $(LIBS)
asan: $(BUILD)/asan/flink-supervisor

$(BUILD)/unit/%: tests/unit/%.c $(ASAN_LIB)
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(CC) $(COMMON) $(PKG_CFLAGS) $(SANITIZE) $(filter %.c %.o,$^) -o $@ $(LIBS) $(shell $(PKG_CONFIG) --libs cmocka)

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
	@images/flink-dist.sh $(FLINK_DIST) $(BUILD)/cache $(FLINK_VERSION)

flink-dist-2: deps
	@images/flink-dist.sh $(BUILD)/flink-$(FLINK2_VERSION) $(BUILD)/cache $(FLINK2_VERSION)

# The appliance image. The base is pulled, or made by debootstrap when no
# registry is reachable (cached in build/base). The build context is what
# the Dockerfile copies and nothing else: one Flink distribution of those
# in build/.
IMAGE_CONTEXT := Dockerfile Makefile supervisor conf examples images/bin $(FLINK_DIST)
image: deps flink-dist
	@images/base-image.sh $(BASE_TAG) $(BUILD)/base
	tar -c -f - $(IMAGE_CONTEXT) | docker build -q --build-arg BASE_IMAGE=$(BASE_TAG) \
	    --build-arg FLINK_VERSION=$(FLINK_VERSION) --build-arg FLINK_DIST=$(FLINK_DIST) -t $(IMAGE) -
	@docker image inspect -f 'image: {{index .RepoTags 0}} {{.Size}} bytes' $(IMAGE)

zk-image: image
	docker build -q --build-arg APPLIANCE_IMAGE=$(IMAGE) -t $(ZK_IMAGE) compose/zookeeper

# The main job: the compose cluster, up until every TaskManager is registered.
up: image zk-image
	FLINK_APPLIANCE_IMAGE=$(IMAGE) $(COMPOSE) -p $(PROJECT) -f compose/docker-compose.yml up -d
	@$(PYTHON) compose/wait-ready.py --url http://127.0.0.1:$${FLINK_UI_PORT:-8081} --taskmanagers 2 --timeout $(UP_TIMEOUT)

down:
	$(COMPOSE) -p $(PROJECT) -f compose/docker-compose.yml down -v --remove-orphans

# libFuzzer over every configuration parser, for FUZZ_SECONDS; the seeds in
# tests/fuzz/corpus stay as they are, new inputs go to build/fuzz/corpus.
$(BUILD)/fuzz/fuzz_config: tests/fuzz/fuzz_config.c $(FUZZ_SRC) supervisor/config/conf.h supervisor/config/confyaml.h
	@mkdir -p $(@D)
	@echo "  CLANG   $@"
	$(Q)clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -Wall -Wextra -Werror -Isupervisor tests/fuzz/fuzz_config.c $(FUZZ_SRC) -o $@ -lyaml

# Marathon's and Flink's answers (appchecks, tmapp, flinkrest, jobgroup), for FUZZ_SECONDS too.
FUZZ_MARATHON_SRC := supervisor/integrations/appchecks.c supervisor/integrations/tmapp.c supervisor/flink/flinkrest.c \
                     supervisor/integrations/jobgroup.c supervisor/config/jobcli.c supervisor/config/settings.c \
                     supervisor/base/fmt.c
$(BUILD)/fuzz/fuzz_marathon: tests/fuzz/fuzz_marathon.c $(FUZZ_MARATHON_SRC) $(FUZZ_MARATHON_SRC:.c=.h)
	@mkdir -p $(@D)
	@echo "  CLANG   $@"
	$(Q)clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -Wall -Wextra -Werror -Isupervisor tests/fuzz/fuzz_marathon.c $(FUZZ_MARATHON_SRC) -o $@ -ljansson

fuzz: deps $(BUILD)/fuzz/fuzz_config $(BUILD)/fuzz/fuzz_marathon
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/marathon-corpus
	cd $(BUILD)/fuzz && ./fuzz_config -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
	    corpus ../../tests/fuzz/corpus 2>fuzz.log || { tail -40 fuzz.log; exit 1; }
	@grep -E "number_of_executed_units" $(BUILD)/fuzz/fuzz.log
	cd $(BUILD)/fuzz && ./fuzz_marathon -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -print_final_stats=1 \
	    marathon-corpus ../../tests/fuzz/marathon-corpus 2>fuzz-marathon.log || { tail -40 fuzz-marathon.log; exit 1; }
	@grep -E "number_of_executed_units" $(BUILD)/fuzz/fuzz-marathon.log

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do $$t; done

# A file includes headers of its own layer or lower ones only.
layers:
	@tests/layers.sh

# The edit-run loop: the build, the layering, the unit tests and the
# integration tests (none of them needs Docker), without the sanitizer pass,
# the fuzzers or the image.
check: deps layers
	$(MAKE) all $(BUILD)/systemd/flink-supervisor helpers $(UNIT_BIN)
	$(MAKE) unit
	$(MAKE) test-integration

test-integration: all $(BUILD)/systemd/flink-supervisor helpers flink-dist flink-dist-2
	$(PYTHON) -m pytest -q tests/integration

# The image under the real Docker engine (and, with it, the compose cluster).
test-system: image zk-image
	$(MAKE) image FLINK_VERSION=$(FLINK2_VERSION)
	$(PYTHON) -m pytest -q tests/system

test-asan: asan $(BUILD)/systemd/flink-supervisor helpers flink-dist flink-dist-2
	SUPERVISOR_BIN=$(BUILD)/asan/flink-supervisor LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	    $(PYTHON) -m pytest -q tests/integration \
	    --ignore=tests/integration/test_valgrind.py

# The whole suite; what .ci/run runs. deps first: the machine may be new.
test: deps layers
	$(MAKE) all asan $(BUILD)/systemd/flink-supervisor helpers $(UNIT_BIN)
	$(MAKE) unit
	$(MAKE) fuzz
	$(MAKE) test-integration
	$(MAKE) test-asan
	$(MAKE) test-system

bench: deps all helpers flink-dist zk-image
	$(PYTHON) bench/run.py

# Every fault of tests/chaos/faults.py on a compose cluster, and of
# amfaults.py on the Application Master's, while the exactly-once workload
# runs; the table goes to bench/chaos.md.
# CHAOS_ARGS: e.g. --only pause, --count 6000 --rate 50.
chaos: image zk-image all flink-dist
	$(PYTHON) tests/chaos/run.py $(CHAOS_ARGS)

# The README's picture of the compose cluster, from its text source.
docs: docs/compose.svg
docs/compose.svg: docs/compose.dot
	dot -Tsvg $< -o $@

# A local Universe repository of conf/universe (README: DC/OS package).
universe:
	$(PYTHON) conf/universe/index.py $(BUILD)/universe/repo.json

# The Application Master's figures alone (make bench includes them);
# BENCH_AM_STEADY_SECONDS shortens the steady-state window.
bench-appmaster: deps all helpers flink-dist
	$(PYTHON) bench/appmaster.py

# run-job to RUNNING by phase, beside flink run on a session cluster.
bench-jobcluster: deps all helpers flink-dist
	$(PYTHON) bench/jobcluster.py

# Keeps the download cache: make distclean removes it too.
clean:
	rm -rf $(BUILD)/obj $(BUILD)/asan $(BUILD)/systemd $(BUILD)/unit $(BUILD)/bench $(BUILD)/fuzz $(BUILD)/flink-supervisor $(BUILD)/testchild

distclean:
	rm -rf $(BUILD)

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(SD_OBJ:.o=.d) $(UNIT_BIN:=.d)
