#!/usr/bin/env bash
# bench/run.sh - `make bench`: throughput and memory, as medians of repeated runs.
#
# 1. End to end through a real local broker: the generator first fills fresh
#    topics with BENCH_VIEWS job views (plus applies, InMails, skill events);
#    then the service consumes, decodes, learns and publishes them all. Reported:
#    events learned per second from the first to the last message, and the
#    service's peak resident memory, median (and range) over BENCH_RUNS runs.
# 2. Decode + unify of job-view records in memory (build/tests/bench_decode).
# 3. The declared multitask model (build/tests/bench_mtl): training examples/s
#    per core, dense layers' GFLOP/s next to single-core sgemm, and an
#    embedding table under id churn against its capacity and memory bound.
# The machine is shared and noisy: read the spread, not only the median.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-3}
VIEWS=${BENCH_VIEWS:-300000}
export MTS_KAFKA_PORT=${MTS_KAFKA_PORT:-19292}
export MTS_KAFKA_DIR=${MTS_KAFKA_DIR:-$(pwd)/run/bench-kafka}
BOOT=127.0.0.1:$MTS_KAFKA_PORT
mkdir -p run/bench
command -v /usr/bin/time >/dev/null || { echo "bench: /usr/bin/time is missing (apt-get install time)"; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%s (min %s, max %s, n=%d)", m, a[1], a[NR], NR}'; }

scripts/kafka.sh wipe >/dev/null 2>&1 || true
trap 'scripts/kafka.sh stop >/dev/null 2>&1 || true' EXIT
scripts/kafka.sh start >/dev/null
rates=() rss=()
for r in $(seq 1 "$RUNS"); do
  p=bench$r-$$
  conf=run/bench/$p.conf
  scripts/mkconf.sh "$conf" "$p" "$BOOT"
  scripts/kafka.sh topics "$p.jobs.views:4" "$p.jobs.applies:2" "$p.inmail.responses:2" "$p.skills.annotations:2" \
    "$p.mtlstream.embeddings.members:3" "$p.mtlstream.embeddings.companies:1" "$p.mtlstream.deadletter:1" >/dev/null
  ./mtlstream gen -c "$conf" --views "$VIEWS" --seed "$r" | sed 's/^/  gen: /'
  /usr/bin/time -f "peak_rss_kb %M" ./mtlstream run -c "$conf" --idle-exit 3 >run/bench/$p.out 2>run/bench/$p.err
  rate=$(sed -n 's/^throughput: .*(\([0-9]*\) events\/s)/\1/p' run/bench/$p.out)
  kb=$(sed -n 's/^peak_rss_kb //p' run/bench/$p.err)
  echo "  run $r: $(grep '^throughput' run/bench/$p.out); peak RSS $((kb / 1024)) MiB"
  rates+=("$rate"); rss+=("$((kb / 1024))")
done
echo "end-to-end events/s through the broker: $(printf '%s\n' "${rates[@]}" | median)"
echo "service peak memory MiB:               $(printf '%s\n' "${rss[@]}" | median)"
if [ -x build/tests/bench_decode ]; then
  echo "decode + unify in memory, per event kind (target: >= 1,000,000 job-view records/s/core):"
  build/tests/bench_decode | sed 's/^/  /'
fi
if [ -x build/tests/bench_mtl ]; then
  echo "declared multitask model, in memory (target: dense >= 40% of single-core sgemm at batch 256):"
  build/tests/bench_mtl "$RUNS" | sed 's/^/  /'
fi
