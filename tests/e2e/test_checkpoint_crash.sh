#!/usr/bin/env bash
# Crash test: while the generator writes, the service is killed with SIGKILL
# at random moments 12 times and restarted each time; then it drains the
# topics and stops. For every partition the final checkpoint's learned +
# dead-lettered count must equal end - start offset (nothing lost, nothing
# counted twice) and no committed offset may be ahead of the checkpoint.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ckpt_lib.sh"
VIEWS=${E2E_CRASH_VIEWS:-50000}
conf=$(ckpt_conf crash cr 1 crash-test-1)
create_topics cr
state=$WORK/cr.state

"$BIN" gen -c "$conf" --views "$VIEWS" --members 1500 --companies 200 --seed 11 --rate 2500 --bad 20 \
  --skills-dir ../shared/data/skills >"$WORK/gen.out" 2>&1 &
gen=$!; PIDS+=($gen)
kills=0
RANDOM=42
while [ $kills -lt 12 ]; do
  "$BIN" run -c "$conf" >>"$WORK/run.out" 2>>"$WORK/run.err" &
  svc=$!
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 1.5 + (r % 2000) / 1000 }')"
  kill -KILL $svc; wait $svc 2>/dev/null || true
  kills=$((kills + 1))
done
echo "killed the service $kills times with SIGKILL"
wait $gen || fail "generator failed"
cat "$WORK/gen.out"
"$BIN" run -c "$conf" --idle-exit 6 >>"$WORK/run.out" 2>>"$WORK/run.err" || { tail -20 "$WORK/run.err"; fail "final run failed"; }
tail -4 "$WORK/run.out"
grep -c "resuming from checkpoint" "$WORK/run.err" | sed 's/^/restarts that resumed from a checkpoint: /'
[ "$(grep -c 'resuming from checkpoint' "$WORK/run.err")" -ge 10 ] || fail "the restarts did not resume from checkpoints"
check_accounting "$conf" "$state/checkpoint"
counts=$("$BIN" checkpoint show "$state/checkpoint" | grep -o '"learned":[0-9]*,"dead_lettered":[0-9]*}$' | tr -d '"}' | sed 's/,/, /; s/:/ /g')
echo "figure: crash test: $kills SIGKILLs and restarts; final checkpoint: $counts"
