#!/usr/bin/env bash
# tests/run.sh - the project's test runner (called by `make test`).
#
# Runs every unit test binary (build/tests/test_*), the decoder's unit tests
# under ASan+UBSan and valgrind (make sanitize), its fuzz target for a bounded
# time (make fuzz), then, unless --unit, starts
# a real Apache Kafka broker (scripts/kafka.sh, KRaft, loopback) on a fresh data
# folder, runs every integration test tests/e2e/test_*.sh against it, and stops
# it. Each test's output goes to build/test-logs/NAME.log; a failing test's log
# tail is printed. Ends with the line "N passed, N failed" and exits non-zero
# if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
LOGS=$BUILD/test-logs
mkdir -p "$LOGS/unit" "$LOGS/e2e"
only_unit=0
filter=""
for a in "$@"; do
  case $a in
    --unit) only_unit=1 ;;
    *) filter=$a ;;
  esac
done

passed=0 failed=0 failed_names=()
run_one() { # name, command...
  local name=$1; shift
  if [ -n "$filter" ] && [[ $name != *"$filter"* ]]; then return; fi
  local t0=$SECONDS log=$LOGS/${name//\//-}.log
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1)); echo "PASS  $name ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "FAIL  $name ($((SECONDS - t0)) s), last lines of $log:"
    tail -n 30 "$log" | sed 's/^/      /'
  fi
  # Figures a test prints on lines starting with "figure:" are shown in the summary.
  grep -h '^figure:' "$log" | sed 's/^/      /' || true
}

for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  run_one "unit/$(basename "$t")" "$t"
done

# The decoder's bad-input suites under ASan+UBSan and valgrind, and its fuzz
# target for a bounded time (FUZZ_SECONDS) on the committed seed corpus.
run_one "san/decoder-asan-ubsan-valgrind" make -s sanitize BUILD="$BUILD"
run_one "fuzz/decoder" make -s fuzz

if [ $only_unit = 0 ]; then
  export MTS_KAFKA_PORT=${MTS_KAFKA_PORT:-19192}
  export MTS_KAFKA_DIR=${MTS_KAFKA_DIR:-$ROOT/run/test-kafka}
  export MTS_BOOTSTRAP=127.0.0.1:$MTS_KAFKA_PORT
  scripts/kafka.sh wipe >/dev/null 2>&1 || true
  trap 'scripts/kafka.sh stop >/dev/null 2>&1 || true' EXIT
  if scripts/kafka.sh start >"$LOGS/kafka-start.log" 2>&1; then
    echo "broker up on $MTS_BOOTSTRAP"
    for t in tests/e2e/test_*.sh; do
      [ -f "$t" ] || continue
      run_one "e2e/$(basename "$t" .sh)" bash "$t"
    done
  else
    failed=$((failed + 1)); failed_names+=("kafka-start")
    echo "FAIL  kafka-start: the local broker did not start:"; tail -n 30 "$LOGS/kafka-start.log" | sed 's/^/      /'
  fi
  scripts/kafka.sh stop >/dev/null 2>&1 || true
fi

echo
[ $failed -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
