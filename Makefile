# builder: build, test, tag and push a Docker image through the Engine API.
#
#   make            bin/builder (dynamically linked, for development)
#   make test       everything: installs what is missing, starts the engine
#                   and the registry, runs unit and end-to-end tests
#   make unit       unit tests only, under ASan and UBSan
#   make check      hermetic: check-env, unit tests, fuzz corpus replay and
#                   the fake-engine tests; no engine, registry or package
#                   installation needed (tests/run.sh runs it first)
#   make check-env  fails when anything but builder/cli/config.c reads the
#                   environment
#   make static     bin/builder-static, fully static (see scripts/static-deps.sh)
#   make image      builder:latest, built by builder itself
#   make demo       the main job on examples/hello against a throwaway registry
#   make bench      docs/benchmarks.md
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60)
#   make lint       shellcheck on every shell script

CC      ?= cc
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
WARN     = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wvla -fno-common
# CFLAGS is the user's (make CFLAGS=-O0 replaces only it); what the code
# needs to compile at all is in BASE_CFLAGS, which every rule adds.
CFLAGS  ?= -O2 -g
BASE_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN)
ifeq ($(CI),true)
BASE_CFLAGS += -Werror
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)
# The libraries: scripts/libs.sh, shared with the fuzz scripts.
PKGS     := $(shell . scripts/libs.sh && echo $$LIB_PKGS)
DEPS_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEPS_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || (. scripts/libs.sh && echo $$LIB_FALLBACK))

# Protobuf messages: our own builder/*/*.proto (the session's, BuildKit's
# progress), turned into build/proto/*.pb-c.[ch] by protoc-c
# (protobuf-c-compiler). A .c file in the same folder compiles the generated
# code (session/pb.c, engine/progress_pb.c), so that every list of library
# objects (here, tests/fuzz) stays builder/*/*.c.
PROTOS    = $(wildcard builder/*/*.proto)
PROTO_GEN = $(patsubst %.proto,build/proto/%.pb-c.c,$(notdir $(PROTOS))) \
            $(patsubst %.proto,build/proto/%.pb-c.h,$(notdir $(PROTOS)))
PROTOC_C ?= protoc-c
vpath %.proto $(sort $(dir $(PROTOS)))

# Sources are grouped by layer in builder/*/ (see builder/README.md); object
# files are named by the source's base name, which is unique across folders.
SRC_DIRS = $(sort $(dir $(wildcard builder/*/*.c)))
SRCS     = $(sort $(wildcard builder/*/*.c))
HDRS     = $(wildcard builder/*/*.h)
LIB_SRCS = $(filter-out builder/cli/main.c,$(SRCS))
OBJS     = $(addprefix build/obj/,$(notdir $(SRCS:.c=.o)))
vpath %.c $(SRC_DIRS)
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_OBJS = $(addprefix build/asan/,$(notdir $(LIB_SRCS:.c=.o)))
UNIT_SRCS = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=build/unit/%)

all: bin/builder

bin/builder: $(OBJS)
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $(OBJS) $(DEPS_LIBS)

build/obj/%.o: %.c $(HDRS) $(PROTO_GEN)
	@mkdir -p build/obj
	$(CC) $(ALL_CFLAGS) -Ibuilder -Ibuild/proto $(DEPS_CFLAGS) -c -o $@ $<

build/proto/%.pb-c.c build/proto/%.pb-c.h: %.proto
	@mkdir -p build/proto
	$(PROTOC_C) --c_out=build/proto -I$(dir $<) $<

# The version goes into util/version.o alone, rebuilt whenever it changes
# (build/version.stamp holds the last one built), so that no object built
# at an older commit keeps an older version in the binary.
VERSION_DEFINE = -DBUILDER_VERSION='"$(VERSION)"'
build/version.stamp: FORCE
	@mkdir -p build
	@echo '$(VERSION)' | cmp -s - $@ 2>/dev/null || echo '$(VERSION)' >$@
build/obj/version.o build/asan/version.o: build/version.stamp
build/obj/version.o build/asan/version.o: BASE_CFLAGS += $(VERSION_DEFINE)
FORCE:

# The binary the end-to-end tests run: same code, with sanitizers.
bin/builder-asan: $(ASAN_OBJS) build/asan/main.o
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $^ $(DEPS_LIBS)

build/asan/%.o: %.c $(HDRS) $(PROTO_GEN)
	@mkdir -p build/asan
	$(CC) $(ALL_CFLAGS) -Ibuilder -Ibuild/proto $(SAN) $(DEPS_CFLAGS) -c -o $@ $<

build/unit/%: tests/unit/%.c tests/unit/unit.h $(ASAN_OBJS)
	@mkdir -p build/unit
	$(CC) $(ALL_CFLAGS) $(SAN) $(DEPS_CFLAGS) -Ibuilder -Ibuild/proto -o $@ $< $(ASAN_OBJS) $(DEPS_LIBS)

build/fake-engine: tests/fake_engine.c
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -o $@ $<

build/registry-proxy: tests/registry-proxy.c
	@mkdir -p build
	$(CC) $(ALL_CFLAGS) -o $@ $<

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@bash tests/run-unit.sh $(UNIT_BINS)

# The environment is read only in builder/cli/config.c (issue 13): every
# input in one place, checked before any engine call.
ENV_READERS = builder/cli/config.c
check-env:
	@bad=$$(grep -nwE 'getenv|secure_getenv|environ' \
	  $(filter-out $(ENV_READERS),$(SRCS) $(HDRS))); \
	if [ -n "$$bad" ]; then \
	  echo "$$bad"; \
	  echo "check-env: only builder/cli/config.c reads the environment;" \
	    "put the variable in struct config and pass it on"; \
	  exit 1; \
	fi; echo "check-env: the environment is read only in $(ENV_READERS)"

# Hermetic: nothing here talks to a docker engine or a registry, or
# installs anything (BUILDER_TEST_HERMETIC tells tests/lib.sh).
# Each part runs even when one before it failed; tests/run.sh adds up their
# "N passed, N failed" lines.
CHECK_E2E = tests/e2e/05-fuzz-replay.sh tests/e2e/10-fake-engine.sh
check: check-env $(UNIT_BINS) build/fake-engine
	@rc=0; bash tests/run-unit.sh $(UNIT_BINS) || rc=1; \
	for f in $(CHECK_E2E); do \
	  BUILDER_TEST_HERMETIC=1 bash $$f </dev/null || rc=1; \
	done; exit $$rc

test: bin/builder bin/builder-asan $(UNIT_BINS) build/fake-engine build/registry-proxy
	bash tests/run.sh

# --- static binary: dependencies built from Debian source packages --------
STATIC_DEPS = .deps/stamp
$(STATIC_DEPS): scripts/static-deps.sh
	bash scripts/static-deps.sh

static: bin/builder-static

# libcurl (HTTP only), libarchive and cJSON from .deps; OpenSSL, zlib,
# nghttp2, protobuf-c and expat are Debian's own .a files (libnghttp2-dev,
# libprotobuf-c-dev, libexpat1-dev). The linker warns that getaddrinfo,
# gethostbyname and dlopen want glibc's shared libraries at run time: in the scratch image
# (no nsswitch.conf) glibc's built-in files and dns lookups do the work, and
# the other two are in OpenSSL code (BIO lookups, engine loading) that
# builder never reaches.
bin/builder-static: $(SRCS) $(HDRS) $(PROTO_GEN) $(STATIC_DEPS) build/version.stamp
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) $(VERSION_DEFINE) -Os -ffunction-sections -fdata-sections -static \
	  -Ibuilder -Ibuild/proto -I.deps/include -DCURL_STATICLIB -o $@ $(SRCS) \
	  -L.deps/lib -Wl,--gc-sections -lcurl -lcjson -larchive -lyaml -lnghttp2 \
	  -lprotobuf-c -lexpat -lssl -lcrypto -lz
	strip $@

image: bin/builder bin/builder-static
	bash scripts/make-image.sh

demo: bin/builder
	bash scripts/demo.sh

bench: bin/builder image
	bash bench/run.sh

fuzz: $(PROTO_GEN)
	bash tests/fuzz/run.sh

# Every shell script, at shellcheck's warning level (tests/e2e/00-env.sh
# runs it; the sources are followed with -x).
SHELL_SCRIPTS = $(wildcard *.sh bench/*.sh bench/cases/*.sh scripts/*.sh tests/*.sh \
                  tests/e2e/*.sh tests/fuzz/*.sh examples/*/*.sh examples/*/*/*.sh) .ci/run
lint:
	shellcheck -S warning -x $(SHELL_SCRIPTS)

format:
	clang-format -i builder/*/*.c builder/*/*.h tests/unit/*.c tests/unit/*.h

format-check:
	clang-format --dry-run -Werror builder/*/*.c builder/*/*.h tests/unit/*.c tests/unit/*.h

clean:
	rm -rf build bin

.PHONY: FORCE all unit unit-bins check check-env test static image demo bench fuzz lint format format-check clean
