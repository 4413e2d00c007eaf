#!/usr/bin/env bash
# scripts/demo.sh - the main job on sample data, from a fresh machine (`make demo`).
#
# Installs what is missing (scripts/deps.sh), builds, starts a local Kafka broker
# (scripts/kafka.sh), creates the topics, runs the service while the generator
# writes synthetic job events and the real skill annotations, shows the
# service's per-task progressive AUC and a few published embeddings, then stops
# everything it started. DEMO_VIEWS sets the number of job views (default 600000).
set -euo pipefail
cd "$(dirname "$0")/.."
VIEWS=${DEMO_VIEWS:-600000}
SKILLS=${MTS_SKILLS_DIR:-../shared/data/skills}
mkdir -p run

scripts/deps.sh
make -s -j2 mtlstream
scripts/kafka.sh fetch
svc=""
cleanup() {
  [ -n "$svc" ] && kill "$svc" 2>/dev/null && wait "$svc" 2>/dev/null
  scripts/kafka.sh stop
}
trap cleanup EXIT
scripts/kafka.sh wipe >/dev/null 2>&1 || true   # a fresh broker: the demo shows its own run only
scripts/kafka.sh start
scripts/kafka.sh topics jobs.views:4 jobs.applies:2 inmail.responses:2 skills.annotations:2 \
  mtlstream.embeddings.members:3 mtlstream.embeddings.companies:1 mtlstream.deadletter:1

# A fresh consumer group each run, so the demo always learns from its own events.
conf=run/demo.conf
scripts/mkconf.sh "$conf" "" 127.0.0.1:19092
rm -rf run/mtlstream.state   # its checkpoints: offsets of the topics wiped above
sed -i "s#group_id = \"mtlstream-group\"#group_id = \"demo-$$\"#" "$conf"

echo "== starting the service (log: run/demo-service.log)"
./mtlstream run -c "$conf" --idle-exit 8 >run/demo-service.out 2>run/demo-service.log &
svc=$!
if [ ! -d "$SKILLS" ]; then
  echo "== NOTE: the real skill data ($SKILLS) is absent: the demo runs without skill events"
fi
echo "== writing $VIEWS job views (+ applies, InMails, real skill annotations) to Kafka"
./mtlstream gen -c "$conf" --views "$VIEWS" --skills-dir "$SKILLS"
echo "== waiting for the service to learn everything (it stops 8 s after the last event)"
wait "$svc" || true
svc=""
grep '^<5>mtlstream: status' run/demo-service.log | tail -n 3 | sed 's/^<5>mtlstream: /   /'
echo "== final report of the service:"
tr ';' '\n' <run/demo-service.out | sed 's/^ */   /'
echo "== a few published embeddings (mtlstream tail):"
./mtlstream tail -c "$conf" --exit-at-end >run/demo-embeddings.jsonl 2>run/demo-tail.log
head -n 3 run/demo-embeddings.jsonl | cut -c1-220 | sed 's/$/ .../'
grep -c '"MEMBER"' run/demo-embeddings.jsonl | sed 's/^/   member embedding messages: /'
grep -c '"COMPANY"' run/demo-embeddings.jsonl | sed 's/^/   company embedding messages: /'
echo "== done; stopping the broker"
