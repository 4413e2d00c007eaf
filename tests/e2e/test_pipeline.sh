#!/usr/bin/env bash
# End to end on the real broker: the generator writes 600,000 job views plus
# applies, InMails, real skill events and a few malformed messages; the service
# learns from them and publishes embeddings; a downstream subscriber reads the
# embedding topics; the checker asserts coverage and held-out AUC >= 0.90.
source "$(dirname "$0")/lib.sh"
VIEWS=${E2E_VIEWS:-600000}
BAD=25
conf=$(make_conf pipeline p1)
create_topics p1

"$BIN" run -c "$conf" --idle-exit 15 >"$WORK/run.out" 2>"$WORK/run.err" &
svc=$!; PIDS+=($svc)
"$BIN" gen -c "$conf" --views "$VIEWS" --members 2000 --companies 300 --seed 7 --bad $BAD \
  --skills-dir ../shared/data/skills | tee "$WORK/gen.out"
grep -q "skill annotations" "$WORK/gen.out" || fail "generator summary missing"
skills=$(sed -n 's/.* \([0-9]*\) skill annotations.*/\1/p' "$WORK/gen.out")
[ "${skills:-0}" -gt 30000 ] || fail "expected the real skill events (>30000), got ${skills:-none}"

wait $svc; rc=$?
PIDS=()
echo "--- service exit code $rc; its final report:"
cat "$WORK/run.out"
grep -c "dead-lettered" "$WORK/run.err" | sed 's/^/dead-letter log lines (rate-limited): /'
[ $rc -eq 0 ] || { tail -20 "$WORK/run.err"; fail "service exited $rc"; }
grep -q "^final: learned" "$WORK/run.out" || fail "no final report"
for t in job_view job_apply inmail skill; do
  grep -q "; $t: [0-9]* events, AUC 0\.[0-9]*" "$WORK/run.out" || fail "no progressive AUC for task $t"
done
rejected=$(sed -n 's/.*; rejected \([0-9]*\);.*/\1/p' "$WORK/run.out")
[ "$rejected" = "$BAD" ] || fail "expected $BAD malformed messages counted, got $rejected"
written=$(sed -n 's/^wrote \([0-9]*\) job views, \([0-9]*\) job applies, \([0-9]*\) InMail responses, \([0-9]*\) skill.*/\1 \2 \3 \4/p' "$WORK/gen.out" | awk '{print $1+$2+$3+$4}')
learned=$(sed -n 's/^final: learned \([0-9]*\) events.*/\1/p' "$WORK/run.out")
echo "figure: events written $written (valid), learned $learned, malformed counted $rejected"
[ "$learned" = "$written" ] || fail "learned $learned events, but $written valid events were written"
grep -q "still queued" "$WORK/run.out" && grep -q ", 0 still queued" "$WORK/run.out" || fail "producer queue not empty"
echo "figure: progressive validation per task:$(grep '^final' "$WORK/run.out" | tr ';' '\n' | grep -E 'AUC' | paste -sd ';' -)"

"$BIN" tail -c "$conf" --exit-at-end >"$WORK/embeddings.jsonl" 2>"$WORK/tail.err"
cat "$WORK/tail.err"
"$BUILD/tests/e2e_check" --views "$VIEWS" --members 2000 --companies 300 --seed 7 "$WORK/embeddings.jsonl"
