#!/usr/bin/env bash
# Two instances and a broker outage. Instance A consumes while the generator
# writes; instance B (its own state directory) joins mid-stream and later
# leaves with SIGTERM; then the broker is stopped for 30 s while the generator
# keeps producing into its queue, and started again. A must stay up, report
# the outage, resume and, at SIGTERM, exit 0 with an empty producer queue.
# Per partition, A's and B's checkpoints together count exactly end - start
# events, and no committed offset is ahead of a checkpoint.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ckpt_lib.sh"
confA=$(ckpt_conf groupA gr 1)
confB=$WORK/groupB.conf
sed "s#gr.state#grB.state#" "$confA" >"$confB"
create_topics gr

"$BIN" run -c "$confA" >"$WORK/a.out" 2>"$WORK/a.err" &
a=$!; PIDS+=($a)
wait_for "$WORK/a.err" "assigned" 30 || fail "A got no partitions"
"$BIN" gen -c "$confA" --views 60000 --members 1500 --companies 200 --seed 21 --no-skills --bad 8 --rate 3000 \
  >"$WORK/gen.out" 2>&1 &
gen=$!; PIDS+=($gen)
sleep 4
"$BIN" run -c "$confB" >"$WORK/b.out" 2>"$WORK/b.err" &
b=$!; PIDS+=($b)
wait_for "$WORK/b.err" "assigned [1-9]" 30 || fail "B got no partitions"
grep -m1 "assigned" "$WORK/b.err"
sleep 5
kill -TERM $b
set +e; wait $b; rc=$?; set -e
[ $rc -eq 0 ] || { tail "$WORK/b.err"; fail "B exit $rc"; }
grep "^final" "$WORK/b.out" | cut -c1-60
revokes=$(grep -c "checkpoint [0-9]* (revocation) written" "$WORK/a.err" || true)
echo "figure: B joined and left; A checkpointed and committed on $revokes revocation(s)"

echo "--- broker outage"
t0=$SECONDS
scripts/kafka.sh stop >/dev/null
sleep $((30 - (SECONDS - t0)))
scripts/kafka.sh start >/dev/null || fail "broker did not come back"
echo "broker was down for $((SECONDS - t0)) s (including start-up)"
kill -0 $a 2>/dev/null || fail "A did not survive the outage"
wait $gen || fail "generator failed"
tail -1 "$WORK/gen.out"
# wait until A has committed the end of every partition
for ((i = 0; i < 90; i++)); do
  "$BUILD/tests/group_offsets" "$confA" >"$WORK/o.txt" 2>/dev/null && awk '$4 != $5 && $4 > 0 { n++ } END { exit n > 0 }' "$WORK/o.txt" && break
  sleep 1
done
kill -TERM $a
set +e; wait $a; rc=$?; set -e
PIDS=()
cat "$WORK/a.out"
[ $rc -eq 0 ] || { tail "$WORK/a.err"; fail "A exit $rc"; }
grep -q ", 0 still queued" "$WORK/a.out" || fail "A's producer queue not empty"
outage=$(grep -ciE "connection refused|disconnected|all broker" "$WORK/a.err" || true)
[ "$outage" -gt 0 ] || fail "A did not report the outage"
echo "figure: outage reported in $outage log lines by A; A resumed and stopped with exit 0, 0 queued"
check_accounting "$confA" "$WORK/gr.state/checkpoint" "$WORK/grB.state/checkpoint"
