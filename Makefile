# mtlstream - top-level build.
#
#   make            build ./mtlstream
#   make test       build and run every test (unit, integration against a real broker)
#   make demo       install what is missing, start a local broker, run the pipeline, show embeddings
#   make bench      benchmarks (medians over repeated runs)
#   make skills-experiment   the skill model's table in docs/skills.md (real data, in memory)
#   make install    PREFIX=/usr/local DESTDIR= ; make uninstall
#   make asan       build a sanitizer copy in build-asan/ ; make format
#   make fuzz       libFuzzer on the decoder for FUZZ_SECONDS (default 40) on tests/fuzz/corpus
#   make sanitize   the decoder's unit tests (bad-input suites) under ASan+UBSan and valgrind

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share
UNITDIR ?= /lib/systemd/system
MANDIR ?= $(DATADIR)/man
SYSUSERSDIR ?= /usr/lib/sysusers.d
UNITS := mtlstream.service mtlstream-replay@.service
DESTDIR ?=

CC ?= cc
BUILD ?= build
OPT ?= -O2
CFLAGS ?= -g
CFLAGS += -std=c11 -D_GNU_SOURCE $(OPT) $(EXTRA_CFLAGS) -Wall -Wextra -Wshadow -Wno-unused-parameter -I. -MMD -MP
ifeq ($(CI),true)
WERROR := 1
endif
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif
PKGS := rdkafka jansson libconfig libsystemd libmicrohttpd
CFLAGS += $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I/usr/include/x86_64-linux-gnu/openblas-pthread
LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lopenblas -lm -lpthread

LIB_SRC := $(wildcard common/*.c consumer/*.c producer/*.c model/*.c gen/*.c)
CLI_SRC := $(wildcard cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libmtlstream.a
BIN ?= mtlstream

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/%)

.PHONY: all test unit demo bench install uninstall clean asan format check-deps fuzz sanitize mtl-experiment \
	skills-experiment
all: mtlstream

$(BIN): $(CLI_OBJ) $(LIB)
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

tests-build: $(BIN) $(UNIT_BIN) $(TOOL_BIN)

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

# The multitask experiment of docs/multitask.md: held-out InMail AUC of
# single-task, joint and iterative training by task correlation (10 seeds, ~3 min).
mtl-experiment: $(BUILD)/tests/exp_mtl
	$(BUILD)/tests/exp_mtl 10 4000 10 1000

asan:
	$(MAKE) BUILD=build-asan BIN=build-asan/mtlstream OPT=-O1 EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	    LDFLAGS="-fsanitize=address,undefined" tests-build

# The decoder alone (Avro codec, framings, unification, plans): what the fuzz
# target and the sanitizer copies of its unit tests need, nothing of Kafka or the model.
DECODER_SRC := common/avro.c common/util.c common/log.c common/row.c consumer/framing.c consumer/plan.c \
	consumer/unify.c
DECODER_TESTS := test_avro test_plan test_unify
SAN_FLAGS := -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SECONDS ?= 40
FUZZ_CC ?= clang

build-fuzz/fuzz_decode: tests/fuzz/fuzz_decode.c $(DECODER_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -I. $(SAN_FLAGS) -fsanitize=fuzzer -o $@ $^ $(shell pkg-config --cflags --libs jansson) -lm

# Runs the fuzzer on a scratch copy of the committed seeds (new finds stay in
# build-fuzz/corpus); a crash leaves its input in build-fuzz/ and fails.
fuzz: build-fuzz/fuzz_decode
	@mkdir -p build-fuzz/corpus
	cp -n tests/fuzz/corpus/* build-fuzz/corpus/ 2>/dev/null || true
	build-fuzz/fuzz_decode -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=1024 -max_len=4096 \
	    -print_final_stats=1 -artifact_prefix=build-fuzz/ build-fuzz/corpus >build-fuzz/fuzz.log 2>&1 \
	    || { tail -n 40 build-fuzz/fuzz.log; echo "fuzz: FAILED, the input is in build-fuzz/crash-*"; exit 1; }
	@echo "figure: fuzz_decode $(FUZZ_SECONDS) s: $$(sed -n 's/^stat::number_of_executed_units: *//p' \
	    build-fuzz/fuzz.log) runs, $$(ls build-fuzz/corpus | wc -l) corpus inputs, no crash"

build-asan/dtests/%: tests/unit/%.c $(DECODER_SRC)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -I. -Wall -Wextra $(SAN_FLAGS) -o $@ $^ \
	    $(shell pkg-config --cflags --libs jansson) -lcmocka -lm

# The bad-input suites under ASan+UBSan (build-asan/dtests/) and under valgrind
# (the plain binaries), each failing on any report or definite leak.
sanitize: $(DECODER_TESTS:%=build-asan/dtests/%) $(DECODER_TESTS:%=$(BUILD)/tests/%)
	for t in $(DECODER_TESTS); do ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 build-asan/dtests/$$t || exit 1; done
	for t in $(DECODER_TESTS); do valgrind -q --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite \
	    $(BUILD)/tests/$$t || exit 1; done

# install: the binary, the man page, the schemas, a sample configuration whose
# schema paths point at the installed schemas, the unit files with ExecStart
# and the configuration path rewritten for BINDIR and SYSCONFDIR, and the
# sysusers.d entry for the mtlstream user. An existing mtlstream.conf is never
# touched (copy the sample to start). uninstall removes what install wrote.
install: mtlstream
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/mtlstream/schemas $(DESTDIR)$(SYSCONFDIR)/mtlstream \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 mtlstream $(DESTDIR)$(BINDIR)/mtlstream
	install -m 0644 schemas/*.avsc $(DESTDIR)$(DATADIR)/mtlstream/schemas/
	sed -e 's#"\.\./schemas/#"$(DATADIR)/mtlstream/schemas/#g' conf/mtlstream.conf \
	    >$(DESTDIR)$(SYSCONFDIR)/mtlstream/mtlstream.conf.sample
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/mtlstream/mtlstream.conf.sample
	for u in $(UNITS); do \
	    sed -e 's#/usr/local/bin/mtlstream#$(BINDIR)/mtlstream#' -e 's#/etc/mtlstream/#$(SYSCONFDIR)/mtlstream/#' \
	        systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 systemd/mtlstream.sysusers $(DESTDIR)$(SYSUSERSDIR)/mtlstream.conf
	install -m 0644 docs/mtlstream.1 $(DESTDIR)$(MANDIR)/man1/mtlstream.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mtlstream $(DESTDIR)$(SYSCONFDIR)/mtlstream/mtlstream.conf.sample
	rm -rf $(DESTDIR)$(DATADIR)/mtlstream
	rm -f $(patsubst %,$(DESTDIR)$(UNITDIR)/%,$(UNITS))
	rm -f $(DESTDIR)$(SYSUSERSDIR)/mtlstream.conf $(DESTDIR)$(MANDIR)/man1/mtlstream.1
	-rmdir $(DESTDIR)$(SYSCONFDIR)/mtlstream 2>/dev/null

format:
	clang-format -i $(LIB_SRC) $(CLI_SRC) $(wildcard */*.h tests/unit/*.h tests/tools/*.h) $(UNIT_SRC) $(TOOL_SRC)

clean:
	rm -rf $(BUILD) build-asan build-fuzz mtlstream

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_BIN:=.d) $(TOOL_BIN:=.d)
