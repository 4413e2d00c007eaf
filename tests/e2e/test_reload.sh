#!/usr/bin/env bash
# SIGHUP reload against the real broker. The service starts with a 10-minute
# publish interval, learns from generated events and publishes nothing; a
# SIGHUP with publish_interval_ms = 300 (and job_view's loss weight 0.5) makes
# it publish within seconds and changes the weight,
# without a group rebalance (no revoke or new assignment in the log). A second
# SIGHUP with a changed topic is refused with a log line and the service keeps
# consuming its old topic. Then SIGTERM, exit 0.
source "$(dirname "$0")/lib.sh"
conf=$(make_conf reload r1)
port=$(free_port)
sed -i -e "s/publish_interval_ms = 1000;/publish_interval_ms = 600000;/" \
  -e "s/metrics_listen = \"127.0.0.1:0\"/metrics_listen = \"127.0.0.1:$port\"/" "$conf"
create_topics r1
"$BIN" run -c "$conf" >"$WORK/run.out" 2>"$WORK/run.err" &
svc=$!; PIDS+=($svc)
scrape() { curl -sf "http://127.0.0.1:$port/metrics" >"$WORK/m.txt"; }
wait_for 30 grep -q 'assigned [0-9]* partition' "$WORK/run.err" || { cat "$WORK/run.err"; fail "no assignment"; }
"$BIN" gen -c "$conf" --views 5000 --no-skills --seed 9 >/dev/null
learned_some() { scrape && [ "$(metric "$WORK/m.txt" 'mtlstream_events_learned_total{task="job_view"')" = 5000 ]; }
wait_for 30 learned_some || fail "service did not learn the 5000 views"
sleep 1.5
scrape
before=$(metric "$WORK/m.txt" 'mtlstream_embeddings_published_total')
[ "$before" = 0 ] || fail "published $before embeddings with a 10-minute interval (expected 0 before reload)"
assigned_before=$(grep -c 'assigned [0-9]* partition' "$WORK/run.err")

sed -i -e "s/publish_interval_ms = 600000;/publish_interval_ms = 300;/" \
  -e 's/label = "viewed"; loss_weight = 1.0;/label = "viewed"; loss_weight = 0.5;/' "$conf"
t0=$(date +%s%N)
kill -HUP $svc
published() { scrape && [ "$(metric "$WORK/m.txt" 'mtlstream_embeddings_published_total')" -gt 0 ]; }
wait_for 10 published || fail "no embeddings published within 10 s of the reload"
ms=$((($(date +%s%N) - t0) / 1000000))
after=$(metric "$WORK/m.txt" 'mtlstream_embeddings_published_total')
grep -q 'reload: output.publish_interval_ms: 600000 -> 300' "$WORK/run.err" || fail "reload not logged"
grep -q '^mtlstream_publish_interval_seconds 0.29999' "$WORK/m.txt" || grep -q '^mtlstream_publish_interval_seconds 0.3$' "$WORK/m.txt" ||
  fail "metrics do not show the new interval"
grep -q '^mtlstream_loss_weight{task="job_view"} 0.5$' "$WORK/m.txt" || { grep loss_weight "$WORK/m.txt"; fail "loss weight change not applied"; }
grep -q '^mtlstream_loss_weight{task="job_apply"} 1$' "$WORK/m.txt" || fail "other task's loss weight changed"

sed -i 's/topic = "r1.jobs.views"/topic = "r1.jobs.views.renamed"/' "$conf"
kill -HUP $svc
wait_for 10 grep -q 'reload: refused: tasks\[job_view\].topic ("r1.jobs.views" -> "r1.jobs.views.renamed")' "$WORK/run.err" ||
  fail "changed topic not refused with a log line"
# still consuming the old topic after the refused reload
"$BIN" gen -c <(sed 's/r1.jobs.views.renamed/r1.jobs.views/' "$conf") --views 1000 --no-skills --seed 10 >/dev/null
more() { scrape && [ "$(metric "$WORK/m.txt" 'mtlstream_events_learned_total{task="job_view"')" = 6000 ]; }
wait_for 30 more || fail "stopped learning from r1.jobs.views after the refused reload"
# A reloaded snapshot interval: with no new input, every embedding is published again.
scrape
p1=$(metric "$WORK/m.txt" 'mtlstream_embeddings_published_total')
rows=$(metric "$WORK/m.txt" 'mtlstream_embedding_table_rows') # members + companies known
[ "$rows" -gt 2000 ] || fail "only $rows entities known"
sed -i "s/snapshot_interval_s = 3600;/snapshot_interval_s = 2;/" "$conf"
kill -HUP $svc
snap() { scrape && [ $(($(metric "$WORK/m.txt" 'mtlstream_embeddings_published_total') - p1)) -ge "$rows" ]; }
wait_for 15 snap || fail "no snapshot republication within 15 s of snapshot_interval_s = 2 (published $p1 -> $(metric "$WORK/m.txt" 'mtlstream_embeddings_published_total'))"
p2=$(metric "$WORK/m.txt" 'mtlstream_embeddings_published_total')
grep -q 'snapshot: every embedding is due' "$WORK/run.err" || fail "snapshot not logged"
assigned_after=$(grep -c 'assigned [0-9]* partition' "$WORK/run.err")
grep -q 'revoked' "$WORK/run.err" && fail "partitions were revoked during reload (group membership dropped)"
[ "$assigned_after" = "$assigned_before" ] || fail "new assignment after reload (rebalance)"
kill -TERM $svc
wait $svc; rc=$?
PIDS=()
grep 'reload' "$WORK/run.err"
[ $rc -eq 0 ] || fail "exit code $rc"
echo "figure: reload: publish interval 600 s -> 0.3 s took effect in $ms ms ($after embeddings published, 0 before), no rebalance; topic change refused; snapshot interval 2 s republished $((p2 - p1)) embeddings ($rows entities) without new input"
