#!/usr/bin/env bash
# Checkpoints in operation: clean stop under load (SIGTERM -> exit 0 within
# 30 s, final checkpoint, empty producer queue); storage faults (a full disk
# behind the temporary file: reported, previous checkpoint intact, the service
# keeps running); replay from the beginning and from a timestamp (stop at the
# end offsets seen at start, live group's committed offsets unchanged, `run`
# continues from the replay's checkpoint), a replay from after the last event
# reads nothing and says so; a corrupt checkpoint falls back to the previous
# one; a mismatching configuration and two damaged files are refused (78).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ckpt_lib.sh"
conf=$(ckpt_conf ops op 1)
create_topics op
state=$WORK/op.state
total() { sed -n 's/^wrote \([0-9]*\) job views, \([0-9]*\) job applies, \([0-9]*\) InMail responses, \([0-9]*\) skill annotations, \([0-9]*\) malformed.*/\1 \2 \3 \4 \5/p' "$1" | awk '{print $1+$2+$3+$4+$5}'; }

echo "--- clean stop under load"
"$BIN" run -c "$conf" >"$WORK/run1.out" 2>"$WORK/run1.err" &
svc=$!; PIDS+=($svc)
wait_for "$WORK/run1.err" "assigned" 30 || fail "no assignment"
"$BIN" gen -c "$conf" --views 60000 --members 1500 --companies 200 --seed 5 --no-skills --bad 10 >"$WORK/gen1.out" 2>&1 &
gen=$!
sleep 1.5
t0=$(date +%s.%N)
kill -TERM $svc
set +e; wait $svc; rc=$?; set -e
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
wait $gen || fail "generator failed"
cat "$WORK/run1.out"
[ $rc -eq 0 ] || { tail "$WORK/run1.err"; fail "SIGTERM under load: exit $rc"; }
awk -v s="$secs" 'BEGIN { exit !(s < 30) }' || fail "stopping took $secs s"
grep -q ", 0 still queued" "$WORK/run1.out" || fail "producer queue not empty at exit"
grep -q "final checkpoint [0-9]* written, offsets of [0-9]* partition(s) committed" "$WORK/run1.err" || fail "no final checkpoint + commit"
learned1=$(sed -n 's/^final: learned \([0-9]*\) events.*/\1/p' "$WORK/run1.out")
echo "figure: SIGTERM under load: exit 0 after $secs s, $learned1 events learned by then, final checkpoint, 0 queued"

echo "--- storage fault: full disk behind checkpoint.tmp"
sum_before=$(sha256sum <"$state/checkpoint")
ln -s /dev/full "$state/checkpoint.tmp"
"$BIN" run -c "$conf" --idle-exit 5 >"$WORK/run2.out" 2>"$WORK/run2.err" &
svc=$!; PIDS+=($svc)
"$BIN" gen -c "$conf" --views 5000 --members 1500 --companies 200 --seed 6 --no-skills --rate 2500 >"$WORK/gen2.out" 2>&1
wait_for "$WORK/run2.err" "checkpoint (periodic) failed" 10 || fail "the full disk was not reported"
grep -m1 "checkpoint (periodic) failed" "$WORK/run2.err"
[ "$(sha256sum <"$state/checkpoint")" = "$sum_before" ] || fail "the previous checkpoint changed during the fault"
"$BIN" checkpoint show "$state/checkpoint" >/dev/null || fail "the previous checkpoint is damaged"
rm "$state/checkpoint.tmp"
set +e; wait $svc; rc=$?; set -e
[ $rc -eq 0 ] || { tail "$WORK/run2.err"; fail "service exit $rc after the fault cleared"; }
fails=$(grep -c "checkpoint (periodic) failed" "$WORK/run2.err")
echo "figure: full disk: $fails failed checkpoints reported, previous checkpoint intact, service kept running"
check_accounting "$conf" "$state/checkpoint"

echo "--- replay"
T=$(date +%s%3N)
sleep 1
"$BIN" gen -c "$conf" --views 6000 --members 1500 --companies 200 --seed 8 --no-skills --bad 3 >"$WORK/gen3.out" 2>&1
after_T=$(total "$WORK/gen3.out")
"$BUILD/tests/group_offsets" "$conf" >"$WORK/group-before.txt"
"$BIN" replay -c "$conf" --from-beginning --checkpoint-out "$WORK/r1.ckpt" >"$WORK/r1.out" 2>"$WORK/r1.err" ||
  { tail "$WORK/r1.err"; fail "replay from the beginning failed"; }
cat "$WORK/r1.out"
"$BIN" gen -c "$conf" --views 2000 --members 1500 --companies 200 --seed 9 --no-skills >"$WORK/gen4.out" 2>&1 # after the replay started: not read
python3 - "$WORK/group-before.txt" <("$BIN" checkpoint show "$WORK/r1.ckpt") <<'PY' || fail "replay from the beginning: wrong range"
import json, sys
offs = [l.split() for l in open(sys.argv[1])]
ck = json.load(open(sys.argv[2]))
for t, p, lo, hi, com in offs:
    e = [x for x in ck["partitions"] if x["topic"] == t and x["partition"] == int(p)]
    n = sum(x["learned"] + x["dead_lettered"] for x in e)
    nxt = e[0]["next_offset"] if e else -1
    if n != int(hi) - int(lo) or (int(hi) > 0 and nxt != int(hi)):
        print(f"{t} [{p}]: replay counted {n}, next {nxt}; partition {lo}..{hi}"); sys.exit(1)
print(f"figure: replay from the beginning: {ck['learned'] + ck['dead_lettered']} events, stopped at the end offsets seen at start")
PY
"$BIN" replay -c "$conf" --from-time "$T" --checkpoint-out "$WORK/r2.ckpt" >"$WORK/r2.out" 2>"$WORK/r2.err" ||
  { tail "$WORK/r2.err"; fail "replay from a time failed"; }
cat "$WORK/r2.out"
after_T=$((after_T + $(total "$WORK/gen4.out"))) # gen4 came before this replay started
r2=$(sed -n 's/^replay: read \([0-9]*\) events.*/\1/p' "$WORK/r2.out")
echo "figure: replay from $T: read $r2 events; $after_T were written after that time and before the replay started"
[ "$r2" = "$after_T" ] || fail "replay from a time read $r2 events, expected $after_T"
"$BIN" replay -c "$conf" --from-time "$(($(date +%s%3N) + 3600000))" --checkpoint-out "$WORK/r3.ckpt" >"$WORK/r3.out" 2>&1 ||
  fail "replay from the future failed"
grep -q "nothing to read" "$WORK/r3.out" || fail "replay from the future did not say it read nothing"
grep "nothing to read" "$WORK/r3.out"
"$BUILD/tests/group_offsets" "$conf" | awk '{print $1, $2, $5}' >"$WORK/group-after.txt"
awk '{print $1, $2, $5}' "$WORK/group-before.txt" | diff - "$WORK/group-after.txt" || fail "replay changed the live group's committed offsets"
echo "figure: live group's committed offsets unchanged by 3 replays"

echo "--- run continues from the replay's checkpoint (new group, new state)"
conf2=$WORK/ops2.conf
sed -e "s#group_id = \"op-group\"#group_id = \"op-new-group\"#" -e "s#op.state#op2.state#" "$conf" >"$conf2"
"$BIN" run -c "$conf2" --from-checkpoint "$WORK/r1.ckpt" --idle-exit 4 >"$WORK/run3.out" 2>"$WORK/run3.err" ||
  { tail "$WORK/run3.err"; fail "run from the replay checkpoint failed"; }
grep -m1 "resuming from checkpoint" "$WORK/run3.err"
check_accounting "$conf2" "$WORK/op2.state/checkpoint"

echo "--- damaged and mismatching checkpoints"
python3 -c "
import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[len(d)//2]^=0x40; open(p,'wb').write(d)" "$state/checkpoint"
"$BIN" run -c "$conf" --idle-exit 2 >"$WORK/run4.out" 2>"$WORK/run4.err" || { tail "$WORK/run4.err"; fail "fallback run failed"; }
grep -m1 "using the previous checkpoint" "$WORK/run4.err" || fail "no fallback to checkpoint.prev"
sed 's/dim = 16;/dim = 8;/' "$conf" >"$WORK/ops-dim8.conf"
set +e; "$BIN" run -c "$WORK/ops-dim8.conf" >/dev/null 2>"$WORK/run5.err"; rc=$?; set -e
cat "$WORK/run5.err"
[ $rc -eq 78 ] && grep -q 'another model configuration: the checkpoint has "dim=16", the configuration "dim=8"' "$WORK/run5.err" ||
  fail "mismatching configuration not refused with 78 (got $rc)"
head -c 1000 "$state/checkpoint.prev" >"$WORK/x" && cp "$WORK/x" "$state/checkpoint.prev"
head -c 5000 "$state/checkpoint" >"$WORK/x" && cp "$WORK/x" "$state/checkpoint"
set +e; "$BIN" run -c "$conf" >/dev/null 2>"$WORK/run6.err"; rc=$?; set -e
cat "$WORK/run6.err"
[ $rc -eq 78 ] || fail "two damaged checkpoints not refused with 78 (got $rc)"
echo "figure: corrupt latest -> previous used; mismatch and double damage refused with exit 78"
