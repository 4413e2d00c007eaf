# tests/e2e/lib.sh - helpers for integration tests (sourced).
# Needs MTS_BOOTSTRAP (set by tests/run.sh, which starts the broker).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=$ROOT/mtlstream
BUILD=${BUILD:-build}
: "${MTS_BOOTSTRAP:?run through tests/run.sh (it starts the broker)}"
WORK=$(mktemp -d "$ROOT/run/e2e.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }

# make_conf NAME PREFIX: a run-time configuration for this test (scripts/mkconf.sh).
make_conf() {
  scripts/mkconf.sh "$WORK/$1.conf" "$2" "$MTS_BOOTSTRAP"
  echo "$WORK/$1.conf"
}

# create_topics PREFIX: the input, output and dead-letter topics.
create_topics() {
  local p=$1
  scripts/kafka.sh topics "$p.jobs.views:4" "$p.jobs.applies:2" "$p.inmail.responses:2" \
    "$p.skills.annotations:2" "$p.mtlstream.embeddings.members:3" "$p.mtlstream.embeddings.companies:1" \
    "$p.mtlstream.deadletter:1"
}

# free_port: a TCP port nothing listens on right now (for a test's metrics endpoint).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

# wait_for SECONDS COMMAND...: retry COMMAND every 0.2 s until it succeeds; 1 on timeout.
wait_for() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
}

# metric FILE NAME{LABELS}: the value of one sample in a /metrics dump (sum if the
# selector matches several), e.g. metric m.txt 'mtlstream_dead_lettered_total'.
metric() {
  awk -v sel="$2" 'index($0, sel) == 1 && $0 !~ /^#/ {s += $NF; n++} END {if (n) printf "%.0f\n", s; else print "none"}' "$1"
}
