#!/usr/bin/env bash
# The service with a DECLARED multitask model (conf/multitask-example.conf) on
# the real broker: five tasks trained jointly, two of them reading the same
# view topic (job_view_sampled: its own head and negatives kept at 20%);
# progressive AUC per task, embeddings of every member and company from the
# declared towers, held-out affinity AUC >= 0.90, exact per-message counts,
# `model describe`, and start-up refusals of impossible declarations (exit 78).
source "$(dirname "$0")/lib.sh"
VIEWS=${E2E_MT_VIEWS:-600000}
scripts/mkconf.sh "$WORK/mt.conf" mt "$MTS_BOOTSTRAP" conf/multitask-example.conf
conf=$WORK/mt.conf
create_topics mt

expect() { # expected-exit-code description command...
  local want=$1 what=$2; shift 2
  set +e; "$@" >"$WORK/out" 2>"$WORK/err"; local rc=$?; set -e
  [ $rc -eq "$want" ] || { cat "$WORK/out" "$WORK/err"; fail "$what: exit $rc, expected $want"; }
  echo "ok: $what (exit $rc)"
}

# Impossible declarations are refused before anything connects.
sed -e 's/mechanism = "joint";/mechanism = "iterative"; distillation = { teacher = "job_view"; student = "job_apply"; };/' \
  "$conf" >"$WORK/distill.conf"
expect 78 "distillation with iterative training" "$BIN" run -c "$WORK/distill.conf"
grep -q "distillation needs joint training" "$WORK/err" || { cat "$WORK/err"; fail "no clear message for distillation"; }
echo "figure: refused: $(cat "$WORK/err")"
sed -e 's/{ type = "embedding";/{ type = "embedding"; share = false;/g' "$conf" >"$WORK/noshare.conf"
expect 78 "joint training without a shared component" "$BIN" run -c "$WORK/noshare.conf"
grep -q "needs at least one shared component" "$WORK/err" || { cat "$WORK/err"; fail "no clear message for sharing"; }
echo "figure: refused: $(cat "$WORK/err")"
sed -e 's/name = "job_view"; kind/name = "job_vue"; kind/' "$conf" >"$WORK/undeclared.conf"
expect 78 "a task without a declared model" "$BIN" run -c "$WORK/undeclared.conf"
grep -q "job_vue has no model" "$WORK/err" || { cat "$WORK/err"; fail "no clear message for an undeclared task"; }

# The shared / task-specific split.
expect 0 "model describe" "$BIN" model describe -c "$conf"
cp "$WORK/out" "$WORK/describe.out"
grep -q "^shared components:" "$WORK/describe.out" || fail "describe: no shared part"
grep -q "^task-specific components:" "$WORK/describe.out" || fail "describe: no task-specific part"
grep -Eq 'embedding\(member_id.*used by: job_view, job_view_sampled, job_apply, inmail' "$WORK/describe.out" ||
  fail "describe: the member table is not shared by the four affinity tasks"
grep -q "published: member embedding = output of tower job_view.member" "$WORK/describe.out" ||
  fail "describe: published towers not shown"

# Train online.
"$BIN" run -c "$conf" --idle-exit 15 >"$WORK/run.out" 2>"$WORK/run.err" &
svc=$!; PIDS+=($svc)
"$BIN" gen -c "$conf" --views "$VIEWS" --members 2000 --companies 300 --seed 11 \
  --skills-dir ../shared/data/skills | tee "$WORK/gen.out"
wait $svc; rc=$?
PIDS=()
echo "--- service exit code $rc; its final report:"
cat "$WORK/run.out"
[ $rc -eq 0 ] || { tail -20 "$WORK/run.err"; fail "service exited $rc"; }
grep -q "the declared multitask network" "$WORK/run.err" || { head -20 "$WORK/run.err"; fail "the service did not log the declared network"; }
for t in job_view job_view_sampled job_apply inmail skill; do
  grep -q "; $t: [1-9][0-9]* events, AUC 0\.[0-9]*" "$WORK/run.out" || fail "no progressive AUC for task $t"
done
views_v=$(sed -n 's/.*; job_view: \([0-9]*\) events.*/\1/p' "$WORK/run.out")
views_s=$(sed -n 's/.*; job_view_sampled: \([0-9]*\) events.*/\1/p' "$WORK/run.out")
[ "$views_v" = "$views_s" ] || fail "both view tasks must score every view ($views_v vs $views_s)"
written=$(sed -n 's/^wrote \([0-9]*\) job views, \([0-9]*\) job applies, \([0-9]*\) InMail responses, \([0-9]*\) skill.*/\1 \2 \3 \4/p' "$WORK/gen.out" | awk '{print $1+$2+$3+$4}')
nviews=$(sed -n 's/^wrote \([0-9]*\) job views.*/\1/p' "$WORK/gen.out")
learned=$(sed -n 's/^final: learned \([0-9]*\) events.*/\1/p' "$WORK/run.out")
echo "figure: messages written $written, learned $learned (each counted once), view rows per view task $views_v of $nviews views"
[ "$learned" = "$written" ] || fail "learned $learned messages, but $written were written"
[ "$views_v" = "$nviews" ] || fail "view task scored $views_v rows for $nviews views"
grep -q ", 0 still queued" "$WORK/run.out" || fail "producer queue not empty"
echo "figure: $(grep '^final' "$WORK/run.out" | tr ';' '\n' | grep -E 'AUC' | tr '\n' ';')"

"$BIN" tail -c "$conf" --exit-at-end >"$WORK/embeddings.jsonl" 2>"$WORK/tail.err"
cat "$WORK/tail.err"
"$BUILD/tests/e2e_check" --views "$VIEWS" --members 2000 --companies 300 --seed 11 "$WORK/embeddings.jsonl"
