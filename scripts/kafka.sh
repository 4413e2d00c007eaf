#!/usr/bin/env bash
# kafka.sh - a real, local, single-node Apache Kafka 4.1.1 broker (KRaft mode).
#
# Debian packages no Kafka broker, so this script takes the broker jars from
# Maven Central (with mvn) and runs them on the machine's Java 17 as one
# combined broker+controller process listening on 127.0.0.1 only. It is what
# the integration tests and the demo use.
#
# How it works:
#   fetch     writes a pom listing kafka_2.13, kafka-tools and the log4j2
#             backend into the cache folder and lets `mvn dependency:copy-
#             dependencies` put every runtime jar into <cache>/libs. A marker
#             holding the pom's checksum makes it a no-op once complete.
#   start     writes server.properties and a log4j2 config into the data dir,
#             formats the KRaft storage once (random cluster id, static
#             single-voter quorum), starts `java kafka.Kafka` in the
#             background with a pid file and waits until a real Metadata
#             request (TopicCommand --list) succeeds.
#   stop      SIGTERM, up to MTS_KAFKA_STOP_TIMEOUT s, then SIGKILL; waits
#             until the JVM is gone.
#   topics, list, describe
#             org.apache.kafka.tools.TopicCommand, one short JVM per call
#             (topics: one per topic, two at a time).
#   JVM start-up is the slow part on a small machine, so the first runs
#   write class-data-sharing archives into <cache>/cds (see cds_init).
#
# Subcommands: fetch start stop status topics list describe bootstrap wipe
# (`scripts/kafka.sh help` says more).
#
# Environment (all optional):
#   MTS_CACHE              cache root          (default: $HOME/.cache/mtlstream)
#   MTS_KAFKA_LIBS         use this jar folder as is, skip fetching
#                          (default: $MTS_CACHE/kafka-4.1.1/libs, filled by fetch)
#   MTS_RUN                run-time root       (default: <repo>/run, gitignored)
#   MTS_KAFKA_DIR          broker data dir     (default: $MTS_RUN/kafka)
#   MTS_KAFKA_PORT         PLAINTEXT port; the controller uses PORT+1
#                          (default: the port of the existing config in the
#                          data dir, else 19092)
#   MTS_KAFKA_PARTITIONS   num.partitions default for new topics (default: 4)
#   MTS_KAFKA_HEAP         broker heap flags   (default: -Xms128m -Xmx768m)
#   MTS_KAFKA_START_TIMEOUT  seconds to wait for the broker (default: 60)
#   MTS_KAFKA_STOP_TIMEOUT   seconds before SIGKILL         (default: 30)
#
# Exit codes: 0 ok, 1 failure, 2 usage, 3 `status` says not running.
set -euo pipefail

KAFKA_VERSION=4.1.1
LOG4J_VERSION=2.24.3
# log4j-slf4j2-impl binds the SLF4J 2 API; Kafka's own poms ask for
# slf4j-api 1.7.36, which would silently fall back to a no-op logger.
SLF4J_VERSION=2.0.16

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT=${MTS_CACHE:-$HOME/.cache/mtlstream}
FETCH_DIR=$CACHE_ROOT/kafka-$KAFKA_VERSION
LIBS=${MTS_KAFKA_LIBS:-$FETCH_DIR/libs}
RUN_ROOT=${MTS_RUN:-$REPO/run}
KDIR=${MTS_KAFKA_DIR:-$RUN_ROOT/kafka}
PARTITIONS=${MTS_KAFKA_PARTITIONS:-4}
HEAP=${MTS_KAFKA_HEAP:--Xms128m -Xmx768m}
START_TIMEOUT=${MTS_KAFKA_START_TIMEOUT:-60}
STOP_TIMEOUT=${MTS_KAFKA_STOP_TIMEOUT:-30}
for v in PARTITIONS START_TIMEOUT STOP_TIMEOUT; do
    [[ ${!v} =~ ^[1-9][0-9]{0,4}$ ]] || { echo "kafka.sh: error: MTS_KAFKA_$v must be a number 1..99999 (got '${!v}')" >&2; exit 2; }
done

PROPS=$KDIR/server.properties
PIDFILE=$KDIR/kafka.pid
OWNER_MARK=$KDIR/.mtlstream-kafka   # proves the folder is ours before `wipe`
SERVER_LOG=$KDIR/logs/server.log
JVM_OUT=$KDIR/logs/jvm.out           # stdout/stderr of the broker JVM
TOOLS_LOG4J=$KDIR/tools-log4j2.properties

# Short-lived tool JVMs: small heap, no C2 compiler, serial GC, JVM log
# lines (e.g. about the class archive below) only if they are errors.
TOOL_JVM=(-Xmx192m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Xlog:disable -Xlog:all=error:stderr)

die() { echo "kafka.sh: error: $*" >&2; exit 1; }
say() { echo "kafka.sh: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The PLAINTEXT port: env, else the existing config's, else 19092.
resolve_port() {
    if [[ -n ${MTS_KAFKA_PORT:-} ]]; then
        PORT=$MTS_KAFKA_PORT
    elif [[ -f $PROPS ]] && PORT=$(sed -n 's/^advertised\.listeners=PLAINTEXT:\/\/[^:]*:\([0-9]*\)$/\1/p' "$PROPS") &&
        [[ -n $PORT ]]; then
        :
    else
        PORT=19092
    fi
    [[ $PORT =~ ^[0-9]+$ ]] && ((PORT >= 1024 && PORT < 65535)) ||
        die "MTS_KAFKA_PORT must be a number in 1024..65534 (got '$PORT')"
    CPORT=$((PORT + 1))
    BOOTSTRAP=127.0.0.1:$PORT
}

config_port_note() {
    local p
    p=$(sed -n 's/^advertised\.listeners=PLAINTEXT:\/\/[^:]*:\([0-9]*\)$/\1/p' "$PROPS" 2>/dev/null) || true
    echo "its config says 127.0.0.1:${p:-unknown}"
}

# ---- prerequisites -------------------------------------------------------

need_java() {
    command -v java >/dev/null 2>&1 ||
        die "java not found; run: sudo $REPO/scripts/deps.sh   (or: sudo apt-get install -y default-jre-headless)"
    local v
    v=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
    [[ ${v%%.*} =~ ^[0-9]+$ ]] && ((${v%%.*} >= 17)) ||
        die "Kafka $KAFKA_VERSION needs Java 17 or newer (found '${v:-unknown}'); run: sudo apt-get install -y openjdk-17-jre-headless"
}

libs_ready() {
    [[ -n ${MTS_KAFKA_LIBS:-} ]] && return 0
    [[ -f $FETCH_DIR/.complete && -f $FETCH_DIR/pom.xml ]] &&
        [[ $(cat "$FETCH_DIR/.complete") == "$(pom_text | sha256sum | cut -d' ' -f1)" ]]
}

need_libs() {
    if [[ -n ${MTS_KAFKA_LIBS:-} ]]; then
        [[ -f $LIBS/kafka_2.13-$KAFKA_VERSION.jar && -f $LIBS/kafka-tools-$KAFKA_VERSION.jar ]] ||
            die "MTS_KAFKA_LIBS=$LIBS does not hold kafka_2.13-$KAFKA_VERSION.jar and kafka-tools-$KAFKA_VERSION.jar"
        if compgen -G "$LIBS/slf4j-api-1.*.jar" >/dev/null && compgen -G "$LIBS/log4j-slf4j2-impl-*.jar" >/dev/null; then
            echo "kafka.sh: warning: $LIBS pairs slf4j-api 1.x with log4j-slf4j2-impl: the broker will log nothing" >&2
        fi
        return 0
    fi
    libs_ready || die "Kafka jars not fetched yet; run: $0 fetch"
}

# ---- fetch ---------------------------------------------------------------

pom_text() {
    local dep
    cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by mtlstream scripts/kafka.sh: the jars of a local Kafka broker. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.mtlstream</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
EOF
    for dep in "org.apache.kafka kafka_2.13 $KAFKA_VERSION" \
        "org.apache.kafka kafka-tools $KAFKA_VERSION" \
        "org.apache.logging.log4j log4j-core $LOG4J_VERSION" \
        "org.apache.logging.log4j log4j-slf4j2-impl $LOG4J_VERSION" \
        "org.slf4j slf4j-api $SLF4J_VERSION"; do
        set -- $dep
        echo "    <dependency><groupId>$1</groupId><artifactId>$2</artifactId><version>$3</version></dependency>"
    done
    cat <<EOF
  </dependencies>
</project>
EOF
}

cmd_fetch() {
    if [[ -n ${MTS_KAFKA_LIBS:-} ]]; then
        need_libs
        say "using jars in $LIBS (MTS_KAFKA_LIBS); nothing to fetch"
        return 0
    fi
    if libs_ready; then
        say "jars already in $LIBS ($(ls "$LIBS" | wc -l) files)"
        return 0
    fi
    command -v mvn >/dev/null 2>&1 ||
        die "mvn not found; run: sudo $REPO/scripts/deps.sh   (or: sudo apt-get install -y maven)"
    need_java
    local t0 tmp
    t0=$(now)
    mkdir -p "$FETCH_DIR"
    pom_text >"$FETCH_DIR/pom.xml"
    tmp=$FETCH_DIR/libs.partial
    rm -rf "$tmp" "$FETCH_DIR/.complete"
    say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS ..."
    if ! mvn -q -B -f "$FETCH_DIR/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$FETCH_DIR/mvn.log" 2>&1; then
        tail -n 30 "$FETCH_DIR/mvn.log" >&2
        die "mvn failed (full output: $FETCH_DIR/mvn.log)"
    fi
    [[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar && -f $tmp/kafka-tools-$KAFKA_VERSION.jar ]] ||
        die "mvn finished but the Kafka jars are missing from $tmp"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    pom_text | sha256sum | cut -d' ' -f1 >"$FETCH_DIR/.complete"
    say "fetched $(ls "$LIBS" | wc -l) jars in $(since "$t0") s"
}

# ---- process helpers -----------------------------------------------------

# True if pid is a live (non-zombie) broker JVM started with our config.
is_our_broker() {
    local pid=$1 state
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null) || return 1
    [[ $state != Z && $state != X ]] || return 1
    tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$PROPS"
}

# Prints the pid of the running broker for this data dir, or fails.
running_pid() {
    local pid
    [[ -f $PIDFILE ]] || return 1
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    is_our_broker "$pid" || return 1
    echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

show_logs() {
    local f
    for f in "$SERVER_LOG" "$JVM_OUT"; do
        [[ -s $f ]] || continue
        echo "---- last lines of $f ----" >&2
        tail -n 25 "$f" >&2
    done
}

# A JVM spends most of its start-up loading classes from the jars. A dynamic
# class-data-sharing archive of them saves that: a tool call goes from ~1.5
# to ~0.8 s, a broker start from ~5 to ~3 s. An archive fits one JVM build
# and one jar folder only, so both are hashed into its name. The first run
# without an archive writes it at exit (a few seconds, once): for the tools
# the readiness check of `start`, for the broker its first `stop`.
CDS_KEY=""
cds_init() {
    [[ -n $CDS_KEY ]] && return 0
    CDS_DIR=$CACHE_ROOT/kafka-$KAFKA_VERSION/cds
    CDS_KEY=$({ java -version 2>&1; echo "$LIBS"; ls -l --time-style=+%s "$LIBS"; } | sha256sum | cut -c1-16)
    CDS=$CDS_DIR/tools-$CDS_KEY.jsa
    BROKER_CDS=$CDS_DIR/broker-$CDS_KEY.jsa
}

# Moves a freshly dumped archive into place. Archives of other keys (another
# jar folder, an older JVM) are kept unless 30 days old.
cds_install() {
    local tmp=$1 final=$2
    if [[ -s $tmp ]]; then
        mv -f "$tmp" "$final"
        find "$CDS_DIR" -maxdepth 1 -name '*.jsa' ! -name "*-$CDS_KEY.jsa" -mtime +30 -delete 2>/dev/null || true
    else
        rm -f "$tmp"
    fi
}

# Runs a class from the Kafka jars with the tool JVM flags.
kjava() {
    local cls=$1 share=()
    shift
    cds_init
    [[ -f $CDS ]] && share=(-XX:SharedArchiveFile="$CDS")
    java "${TOOL_JVM[@]}" "${share[@]}" -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$LIBS/*" "$cls" "$@"
}

topic_cmd() { kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" "$@"; }

# ---- start ---------------------------------------------------------------

write_configs() {
    mkdir -p "$KDIR/data" "$KDIR/logs"
    touch "$OWNER_MARK"
    cat >"$PROPS.tmp" <<EOF
# Generated by mtlstream scripts/kafka.sh on every start; edits are lost.
# A single-node KRaft cluster: this one process is broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KDIR/data

# Topics: created explicitly (scripts/kafka.sh topics), never by a client.
auto.create.topics.enable=false
num.partitions=$PARTITIONS
default.replication.factor=1
min.insync.replicas=1

# Internal topics of one node: replication factor 1, few partitions.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

# A small machine: few threads.
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
EOF
    mv "$PROPS.tmp" "$PROPS"

    local l=$KDIR/logs
    cat >"$KDIR/log4j2.properties" <<EOF
# Broker logging: INFO to $l/server.log (rolled at 20 MB), nothing to a terminal.
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $l/server.log
appender.file.filePattern = $l/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
EOF
    cat >"$TOOLS_LOG4J" <<EOF
# Command-line tools run by scripts/kafka.sh: warnings and errors to stderr.
status = warn
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = err
EOF
}

# A random Kafka Uuid: 16 bytes, URL-safe base64 without padding. Like
# Uuid.randomUuid(), avoid a leading '-' (it would read as an option).
cluster_id() {
    local id
    while :; do
        id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
        [[ ${#id} -eq 22 && $id != -* ]] && break
    done
    echo "$id"
}

format_storage() {
    [[ -f $KDIR/data/meta.properties ]] && return 0
    local id out
    id=$(cluster_id)
    say "formatting KRaft storage in $KDIR/data (cluster id $id)"
    if ! out=$(kjava kafka.tools.StorageTool format -t "$id" -c "$PROPS" 2>&1); then
        echo "$out" >&2
        die "formatting the storage failed"
    fi
}

# One real Metadata request (ListTopics) within `budget` seconds, in the
# background: sets CHECK_PID. While no tool archive exists, this run writes
# it (see cds_init). check_done collects the result: 0 if it succeeded.
check_begin() {
    local budget=$1 share=()
    cds_init
    CHECK_DUMP=""
    if [[ -f $CDS ]]; then
        share=(-XX:SharedArchiveFile="$CDS")
    else
        mkdir -p "$CDS_DIR"
        CHECK_DUMP=$CDS.$$
        share=(-XX:ArchiveClassesAtExit="$CHECK_DUMP")
    fi
    timeout "$budget" java "${TOOL_JVM[@]}" "${share[@]}" -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
        -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --list \
        >/dev/null 2>&1 &
    CHECK_PID=$!
}

check_done() {
    local rc=0
    wait "$CHECK_PID" || rc=$?
    if [[ -n $CHECK_DUMP ]]; then
        if ((rc == 0)); then cds_install "$CHECK_DUMP" "$CDS"; else rm -f "$CHECK_DUMP"; fi
    fi
    return $rc
}

# Forget the broker archive a run was to write: one from a broker that did
# not finish starting would hold only part of the classes.
drop_pending_cds() {
    [[ -f $KDIR/cds.pending ]] || return 0
    rm -f "$(cat "$KDIR/cds.pending")" "$KDIR/cds.pending"
}

cmd_start() {
    local pid t0 deadline left cds=() pending
    if pid=$(running_pid); then
        say "already running (pid $pid); nothing to do ($(config_port_note))"
        return 0
    fi
    need_java
    need_libs
    rm -f "$PIDFILE"
    port_open "$PORT" && die "port $PORT on 127.0.0.1 is already in use by another process (set MTS_KAFKA_PORT)"
    port_open "$CPORT" && die "controller port $CPORT on 127.0.0.1 is already in use (set MTS_KAFKA_PORT)"

    t0=$(now)
    write_configs
    format_storage
    # Keep one previous log, so that what `start` shows is from this run.
    [[ -f $SERVER_LOG ]] && mv -f "$SERVER_LOG" "$SERVER_LOG.prev"
    : >"$JVM_OUT"
    cds_init
    drop_pending_cds
    if [[ -f $BROKER_CDS ]]; then
        cds=(-XX:SharedArchiveFile="$BROKER_CDS")
    else
        mkdir -p "$CDS_DIR"
        echo "$BROKER_CDS.$$" >"$KDIR/cds.pending"
        cds=(-XX:ArchiveClassesAtExit="$BROKER_CDS.$$")
    fi
    # setsid: the broker leaves the caller's process group, so a Ctrl-C in
    # the terminal that started it does not reach it; `stop` does.
    setsid java $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
        -Xlog:disable -Xlog:all=warning,cds*=error:stderr "${cds[@]}" \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$KDIR/log4j2.properties" \
        -Dkafka.logs.dir="$KDIR/logs" -cp "$LIBS/*" kafka.Kafka "$PROPS" \
        </dev/null >>"$JVM_OUT" 2>&1 &
    pid=$!
    echo "$pid" >"$PIDFILE"
    say "started broker JVM (pid $pid), waiting up to ${START_TIMEOUT} s for $BOOTSTRAP ..."

    # Wait for the port, then for one metadata request to succeed, watching
    # the broker all along so that a crash is reported at once.
    deadline=$(($(date +%s) + START_TIMEOUT))
    CHECK_PID=""
    while :; do
        left=$((deadline - $(date +%s)))
        if ! is_our_broker "$pid"; then
            [[ -n $CHECK_PID ]] && { kill "$CHECK_PID" 2>/dev/null || true; check_done || true; }
            show_logs
            drop_pending_cds
            rm -f "$PIDFILE"
            die "the broker exited during start-up (logs above; full log: $SERVER_LOG)"
        fi
        if [[ -n $CHECK_PID ]] && ! kill -0 "$CHECK_PID" 2>/dev/null; then
            if check_done; then
                say "ready on $BOOTSTRAP (pid $pid) after $(since "$t0") s; data in $KDIR"
                return 0
            fi
            CHECK_PID=""
        fi
        ((left > 0)) || break
        [[ -z $CHECK_PID ]] && port_open "$PORT" && check_begin "$left"
        sleep 0.2
    done
    [[ -n $CHECK_PID ]] && { kill "$CHECK_PID" 2>/dev/null || true; check_done || true; }
    show_logs
    say "stopping the broker that did not become ready"
    pending=$(cat "$KDIR/cds.pending" 2>/dev/null) || true
    rm -f "$KDIR/cds.pending"
    stop_pid "$pid" >&2 || true
    [[ -n $pending ]] && rm -f "$pending"
    die "broker did not answer a metadata request within ${START_TIMEOUT} s (full log: $SERVER_LOG)"
}

# ---- stop ----------------------------------------------------------------

stop_pid() {
    local pid=$1 t0 deadline killed=0 pending
    t0=$(now)
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$(($(date +%s) + STOP_TIMEOUT))
    while is_our_broker "$pid" && (($(date +%s) < deadline)); do
        sleep 0.2
    done
    if is_our_broker "$pid"; then
        say "broker (pid $pid) still alive after ${STOP_TIMEOUT} s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        killed=1
        deadline=$(($(date +%s) + 10))
        while is_our_broker "$pid" && (($(date +%s) < deadline)); do
            sleep 0.1
        done
        is_our_broker "$pid" && die "broker (pid $pid) survived SIGKILL"
    fi
    rm -f "$PIDFILE"
    # A first broker run dumps its class archive while exiting (see cds_init).
    if [[ -f $KDIR/cds.pending ]]; then
        pending=$(cat "$KDIR/cds.pending")
        rm -f "$KDIR/cds.pending"
        if ((killed == 0)); then
            cds_init
            cds_install "$pending" "$BROKER_CDS"
        else
            rm -f "$pending"
        fi
    fi
    say "stopped (pid $pid) in $(since "$t0") s"
}

cmd_stop() {
    local pid
    if ! pid=$(running_pid); then
        rm -f "$PIDFILE"
        say "not running"
        return 0
    fi
    stop_pid "$pid"
}

# ---- status / topics -----------------------------------------------------

cmd_status() {
    local pid
    if pid=$(running_pid); then
        if port_open "$PORT"; then
            say "running (pid $pid) on $BOOTSTRAP; data in $KDIR"
        else
            say "running (pid $pid) but not listening on $BOOTSTRAP yet; data in $KDIR"
        fi
        return 0
    fi
    say "not running (data dir $KDIR)"
    return 3
}

need_running() {
    running_pid >/dev/null || die "broker not running for $KDIR; run: $0 start"
    port_open "$PORT" || die "the broker of $KDIR runs but does not listen on $BOOTSTRAP ($(config_port_note))"
    need_libs
}

# Creates NAME:PARTITIONS topics (replication 1). Existing topics are left
# as they are. One JVM per topic, at most two at a time (2 cores).
cmd_topics() {
    (($# > 0)) || usage
    local spec name n t0 pids=() names=() i rc=0 dir
    for spec in "$@"; do
        [[ $spec =~ ^([A-Za-z0-9._-]{1,249}):([0-9]{1,5})$ ]] ||
            die "bad topic spec '$spec' (want NAME:PARTITIONS, a name of 1..249 of [A-Za-z0-9._-])"
        ((10#${BASH_REMATCH[2]} >= 1 && 10#${BASH_REMATCH[2]} <= 10000)) ||
            die "topic '${BASH_REMATCH[1]}': partitions must be 1..10000"
    done
    need_running
    t0=$(now)
    dir=$(mktemp -d)
    for spec in "$@"; do
        name=${spec%:*} n=$((10#${spec##*:}))
        if ((${#pids[@]} >= 2)); then
            wait "${pids[0]}" || rc=1
            pids=("${pids[@]:1}")
        fi
        topic_cmd --create --if-not-exists --topic "$name" --partitions "$n" \
            --replication-factor 1 >"$dir/$name.out" 2>&1 &
        pids+=($!)
        names+=("$name")
    done
    for i in "${pids[@]}"; do wait "$i" || rc=1; done
    # Show what the tool said, less its success line and its generic
    # warning about '.' and '_' in names.
    for name in "${names[@]}"; do
        grep -v -e '^Created topic' -e "^WARNING: Due to limitations in metric names" \
            -e $'^\tat ' -e $'^\t\\.\\.\\. [0-9]* more' "$dir/$name.out" |
            sed "s/^/  $name: /" >&2 || true
    done
    rm -rf "$dir"
    ((rc == 0)) || die "creating topics failed (messages above)"
    say "topics ready: $* ($(since "$t0") s)"
}

cmd_list() {
    need_running
    topic_cmd --list --exclude-internal
}

# describe [NAME...]: partitions, leaders and configs; all topics if none given.
cmd_describe() {
    need_running
    local re="" name
    for name in "$@"; do
        [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "bad topic name '$name'"
        re+="${re:+|}${name//./\\.}"
    done
    if [[ -n $re ]]; then
        topic_cmd --describe --topic "$re"
    else
        topic_cmd --describe --exclude-internal
    fi
}

cmd_wipe() {
    cmd_stop
    [[ -d $KDIR ]] || { say "nothing to wipe ($KDIR does not exist)"; return 0; }
    [[ -f $OWNER_MARK ]] || die "$KDIR was not created by this script (no $(basename "$OWNER_MARK")); not deleting it"
    rm -rf "$KDIR"
    say "deleted $KDIR"
}

usage() { # usage [EXIT]: to stdout for `help` (exit 0), else to stderr
    local rc=${1:-2}
    ((rc == 0)) || exec >&2
    cat <<EOF
usage: $0 COMMAND
  fetch                 download the Kafka $KAFKA_VERSION jars (once) into $LIBS
  start                 format (once) and start the broker, wait until it answers
  stop                  stop the broker (SIGTERM, SIGKILL after ${STOP_TIMEOUT} s)
  status                exit 0 if running, 3 if not
  topics NAME:PARTS...  create topics (replication 1); existing ones are kept
  list                  list topics
  describe [NAME...]    partitions and leaders of topics
  bootstrap             print the bootstrap address (127.0.0.1:PORT)
  wipe                  stop and delete the data dir $KDIR
Environment: MTS_CACHE MTS_KAFKA_LIBS MTS_RUN MTS_KAFKA_DIR MTS_KAFKA_PORT
  MTS_KAFKA_PARTITIONS MTS_KAFKA_HEAP MTS_KAFKA_START_TIMEOUT MTS_KAFKA_STOP_TIMEOUT
EOF
    exit "$rc"
}

main() {
    (($# > 0)) || usage
    local cmd=$1
    shift
    resolve_port
    case $cmd in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    topics) cmd_topics "$@" ;;
    list) cmd_list ;;
    describe) cmd_describe "$@" ;;
    bootstrap) echo "$BOOTSTRAP" ;;
    wipe) cmd_wipe ;;
    -h | --help | help) usage 0 ;;
    *) echo "kafka.sh: unknown command '$cmd'" >&2; usage ;;
    esac
}

main "$@"
