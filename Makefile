# mtlstream - top-level build.
#
#   make            build ./mtlstream
#   make test       build and run every test (unit, integration against a real broker)
#   make demo       install what is missing, start a local broker, run the pipeline, show embeddings
#   make bench      benchmarks (medians over repeated runs)
#   make skills-experiment   the skill model's table in docs/skills.md (real data, in memory)
#   make install    PREFIX=/usr/local DESTDIR= ; make uninstall
#   make asan       build a sanitizer copy in build-asan/ ; make format

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share
UNITDIR ?= /lib/systemd/system
DESTDIR ?=

CC ?= cc
BUILD ?= build
OPT ?= -O2
CFLAGS ?= -g
CFLAGS += -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra -Wshadow -Wno-unused-parameter -I. -MMD -MP
ifeq ($(CI),true)
WERROR := 1
endif
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif
PKGS := rdkafka jansson libconfig libsystemd
CFLAGS += $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I/usr/include/x86_64-linux-gnu/openblas-pthread
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lopenblas -lm -lpthread

LIB_SRC := $(wildcard common/*.c consumer/*.c producer/*.c model/*.c gen/*.c)
CLI_SRC := $(wildcard cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libmtlstream.a

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/%)

.PHONY: all test unit demo bench install uninstall clean asan format check-deps skills-experiment
all: mtlstream

mtlstream: $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDFLAGS) $(LDLIBS)

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/tests/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

tests-build: mtlstream $(UNIT_BIN) $(TOOL_BIN)

# The one test command: installs what is missing (scripts/deps.sh), builds, then
# runs the unit tests and the integration tests on a real local Kafka broker.
test:
	scripts/deps.sh
	scripts/kafka.sh fetch
	$(MAKE) tests-build
	tests/run.sh

unit: tests-build
	tests/run.sh --unit

demo:
	scripts/demo.sh

# Every figure of docs/skills.md, from ../shared/data/skills, in memory (~30 s).
skills-experiment: $(BUILD)/tests/exp_skills
	$(BUILD)/tests/exp_skills table seeds=5

bench: mtlstream $(TOOL_BIN)
	scripts/kafka.sh fetch
	bench/run.sh

asan:
	$(MAKE) BUILD=build-asan OPT=-O1 CFLAGS="-g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined" tests-build

install: mtlstream
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/mtlstream/schemas $(DESTDIR)$(SYSCONFDIR)/mtlstream \
	    $(DESTDIR)$(UNITDIR)
	install -m 0755 mtlstream $(DESTDIR)$(BINDIR)/mtlstream
	install -m 0644 schemas/*.avsc $(DESTDIR)$(DATADIR)/mtlstream/schemas/
	install -m 0644 conf/mtlstream.conf $(DESTDIR)$(SYSCONFDIR)/mtlstream/mtlstream.conf.sample
	install -m 0644 systemd/*.service $(DESTDIR)$(UNITDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mtlstream $(DESTDIR)$(SYSCONFDIR)/mtlstream/mtlstream.conf.sample
	rm -rf $(DESTDIR)$(DATADIR)/mtlstream
	rm -f $(patsubst systemd/%,$(DESTDIR)$(UNITDIR)/%,$(wildcard systemd/*.service))

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(wildcard */*.h) $(UNIT_SRC) $(TOOL_SRC)

clean:
	rm -rf $(BUILD) build-asan mtlstream

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
