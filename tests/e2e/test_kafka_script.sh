#!/usr/bin/env bash
# test_kafka_script.sh - end-to-end test of scripts/kafka.sh against a real
# Kafka broker.
#
# Fetches the jars (a no-op when cached), starts a broker in a temporary data
# dir on a free non-default port, creates two topics with 3 and 1 partitions,
# checks their partition counts with `describe`, checks that start and topics
# are idempotent, stops the broker and asserts that no JVM using that data dir
# is left. Whatever happens, the trap stops the broker and removes the dir.
# Exit 0 on pass, 1 with a message on failure.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
K=$REPO/scripts/kafka.sh
TMP=$(mktemp -d /tmp/mts-kafka-e2e.XXXXXX)
export MTS_KAFKA_DIR=$TMP/kafka

fail() {
    echo "FAIL test_kafka_script: $*" >&2
    exit 1
}

# Pids of live processes whose command line mentions the data dir.
jvms_using_dir() {
    local f pid
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}
        pid=${pid%/cmdline}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "$MTS_KAFKA_DIR/" || continue
        grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && continue
        echo "$pid"
    done
}

cleanup() {
    local rc=$? pid
    trap - EXIT
    if ((rc != 0)); then
        [[ -f $MTS_KAFKA_DIR/logs/server.log ]] && {
            echo "---- last lines of the broker log ----" >&2
            tail -n 20 "$MTS_KAFKA_DIR/logs/server.log" >&2
        }
        "$K" stop >&2 || true
        # Last resort, only for JVMs of this test's own data dir.
        for pid in $(jvms_using_dir); do kill -KILL "$pid" 2>/dev/null || true; done
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free port pair (PORT, PORT+1) away from the default 19092.
for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if port_free "$p" && port_free $((p + 1)); then
        export MTS_KAFKA_PORT=$p
        break
    fi
done
[[ -n ${MTS_KAFKA_PORT:-} ]] || fail "no free port pair found"

ms() { date +%s%3N; }

"$K" fetch >/dev/null || fail "fetch failed"

t=$(ms)
"$K" start || fail "start failed"
start_ms=$(($(ms) - t))

[[ $("$K" bootstrap) == "127.0.0.1:$MTS_KAFKA_PORT" ]] || fail "bootstrap printed '$("$K" bootstrap)'"
"$K" status >/dev/null || fail "status says not running after start"
out=$("$K" start) || fail "second start failed"
[[ $out == *"already running"* ]] || fail "second start did not say 'already running': $out"

t=$(ms)
"$K" topics e2e.three:3 e2e.one:1 || fail "topics failed"
topics_ms=$(($(ms) - t))
"$K" topics e2e.three:3 >/dev/null || fail "creating an existing topic again failed"

desc=$("$K" describe e2e.three e2e.one) || fail "describe failed"
count() { # count NAME: PartitionCount from the topic's summary line
    sed -n "s/^Topic: $1[[:space:]].*PartitionCount: \([0-9]*\).*/\1/p" <<<"$desc"
}
[[ $(count 'e2e\.three') == 3 ]] || fail "e2e.three: want 3 partitions, describe says: $desc"
[[ $(count 'e2e\.one') == 1 ]] || fail "e2e.one: want 1 partition, describe says: $desc"
n=$(grep -c $'^\tTopic: e2e\\.three\tPartition:' <<<"$desc" || true)
[[ $n == 3 ]] || fail "e2e.three: want 3 partition lines, got $n"
grep -q $'^\tTopic: e2e\\.one\tPartition: 0\tLeader: 1' <<<"$desc" || fail "e2e.one partition 0 has no leader 1"
list=$("$K" list) || fail "list failed"
[[ $(grep -cx 'e2e\.three\|e2e\.one' <<<"$list") == 2 ]] || fail "list does not show both topics: $list"

pid=$(cat "$MTS_KAFKA_DIR/kafka.pid")
t=$(ms)
"$K" stop || fail "stop failed"
stop_ms=$(($(ms) - t))
[[ ! -e /proc/$pid ]] || grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" ||
    fail "broker pid $pid still alive after stop"
left=$(jvms_using_dir)
[[ -z $left ]] || fail "processes still using $MTS_KAFKA_DIR after stop: $left"
"$K" stop >/dev/null || fail "second stop failed"
rc=0
"$K" status >/dev/null || rc=$?
[[ $rc == 3 ]] || fail "status after stop: want exit 3, got $rc"
"$K" wipe >/dev/null || fail "wipe failed"
[[ ! -e $MTS_KAFKA_DIR ]] || fail "wipe left $MTS_KAFKA_DIR"

echo "PASS test_kafka_script: port $MTS_KAFKA_PORT, start ${start_ms} ms (format+start), 2 topics ${topics_ms} ms, stop ${stop_ms} ms"
