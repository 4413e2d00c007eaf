#!/usr/bin/env bash
# /metrics and /healthz against the real broker: the generator writes a known
# number of events and malformed messages; the scrape must pass
# `promtool check metrics` and its counters must equal what was produced.
# Also: a non-loopback metrics_listen is refused (exit 78).
source "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus; scripts/deps.sh)"
conf=$(make_conf metrics k1)
port=$(free_port)
sed -i -e "s/metrics_listen = \"127.0.0.1:0\"/metrics_listen = \"127.0.0.1:$port\"/" \
  -e "s/checkpoint_interval_s = 30;/checkpoint_interval_s = 2;/" "$conf"
create_topics k1
"$BIN" run -c "$conf" >"$WORK/run.out" 2>"$WORK/run.err" &
svc=$!; PIDS+=($svc)
url=http://127.0.0.1:$port
wait_for 30 curl -sf "$url/healthz" -o "$WORK/health0.json" || { cat "$WORK/run.err"; fail "no /healthz"; }
grep -q '"last_checkpoint_age_s":null' "$WORK/health0.json" || fail "healthz shows a checkpoint age before any checkpoint"
BAD=11
"$BIN" gen -c "$conf" --views 8000 --no-skills --seed 4 --bad $BAD | tee "$WORK/gen.out"
views=8000
applies=$(sed -n 's/.* \([0-9]*\) job applies.*/\1/p' "$WORK/gen.out")
inmails=$(sed -n 's/.* \([0-9]*\) InMail responses.*/\1/p' "$WORK/gen.out")
total=$((views + applies + inmails))
done_all() {
  curl -sf "$url/metrics" -o "$WORK/metrics.txt" &&
    [ "$(metric "$WORK/metrics.txt" 'mtlstream_events_learned_total')" = "$total" ] &&
    [ "$(metric "$WORK/metrics.txt" 'mtlstream_dead_lettered_total')" = "$BAD" ] &&
    [ "$(metric "$WORK/metrics.txt" 'mtlstream_dead_letter_deliveries_total{result="delivered"}')" = "$BAD" ] &&
    [ "$(metric "$WORK/metrics.txt" 'mtlstream_consumer_lag')" = 0 ]
}
wait_for 40 done_all || { grep -E '_total|lag' "$WORK/metrics.txt"; fail "counters did not reach learned=$total dead-lettered=$BAD lag=0"; }
sleep 2.5 # one more publish round, a checkpoint (every 2 s while input arrives) and snapshot
curl -sf "$url/metrics" -o "$WORK/metrics.txt"
curl -s "$url/healthz" -o "$WORK/health.json" -w '%{http_code}' >"$WORK/health.code"
echo "--- promtool check metrics"
promtool check metrics <"$WORK/metrics.txt" || fail "promtool check metrics"
echo "promtool: ok ($(grep -vc '^#' "$WORK/metrics.txt") samples)"
check() { # selector expected
  local v; v=$(metric "$WORK/metrics.txt" "$1")
  echo "  $1 = $v (want $2)"
  [ "$v" = "$2" ] || fail "$1 is $v, expected $2"
}
check 'mtlstream_events_consumed_total{task="job_view",topic="k1.jobs.views"}' $((views + BAD)) # the generator writes bad messages to the views topic
check 'mtlstream_events_learned_total{task="job_view",topic="k1.jobs.views"}' $views
check 'mtlstream_events_learned_total{task="job_apply",topic="k1.jobs.applies"}' "$applies"
check 'mtlstream_events_learned_total{task="inmail",topic="k1.inmail.responses"}' "$inmails"
check 'mtlstream_events_learned_total{task="skill"' 0
check 'mtlstream_dead_lettered_total' $BAD
check 'mtlstream_consumer_lag' 0
check 'mtlstream_ready' 1
check 'mtlstream_assigned_partitions' 10
check 'mtlstream_embedding_deliveries_total{result="failed"}' 0
pub=$(metric "$WORK/metrics.txt" 'mtlstream_embeddings_published_total')
del=$(metric "$WORK/metrics.txt" 'mtlstream_embedding_deliveries_total{result="delivered"}')
rows=$(metric "$WORK/metrics.txt" 'mtlstream_embedding_table_rows')
steps=$(metric "$WORK/metrics.txt" 'mtlstream_training_steps_total')
[ "$pub" -gt 0 ] && [ "$del" = "$pub" ] || fail "published $pub, delivered $del"
[ "$rows" -gt 0 ] && [ "$steps" -gt 0 ] || fail "table rows $rows, steps $steps"
grep -q '^mtlstream_auc{task="job_view"} 0\.[0-9]' "$WORK/metrics.txt" || fail "no AUC for job_view"
grep -q '^mtlstream_logloss{task="job_apply"} 0\.[0-9]' "$WORK/metrics.txt" || fail "no log-loss for job_apply"
cat "$WORK/health.json"
[ "$(cat "$WORK/health.code")" = 200 ] || fail "/healthz answered $(cat "$WORK/health.code")"
grep -q '"ready":true,"consuming":true,"assigned_partitions":10' "$WORK/health.json" || fail "healthz body"
grep -Eq '"last_checkpoint_age_s":[0-9]+\.[0-9]+' "$WORK/health.json" || fail "healthz has no checkpoint age after a checkpoint"
[ "$(metric "$WORK/metrics.txt" 'mtlstream_checkpoints_total')" -ge 1 ] || fail "no checkpoint counted"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/nothing")" = 404 ] || fail "unknown path not 404"
kill -TERM $svc; wait $svc; rc=$?; PIDS=()
[ $rc -eq 0 ] || fail "exit code $rc"
# the final report of the run agrees with the scrape
grep -q "^final: learned $total events in $steps steps\|^final: learned $total events" "$WORK/run.out" || fail "final report disagrees"

bad=$(make_conf remote k2)
sed -i 's/metrics_listen = "127.0.0.1:0"/metrics_listen = "0.0.0.0:0"/' "$bad"
set +e
"$BIN" run -c "$bad" >/dev/null 2>"$WORK/remote.err"; rc=$?
set -e
cat "$WORK/remote.err"
[ $rc -eq 78 ] && grep -q 'not a loopback address' "$WORK/remote.err" || fail "non-loopback listen not refused (rc $rc)"
echo "figure: metrics: promtool ok; learned $total = generated, dead-lettered $BAD = generated bad, lag 0, $pub embeddings published = delivered, $steps steps; /healthz 200; 0.0.0.0 refused (78)"
