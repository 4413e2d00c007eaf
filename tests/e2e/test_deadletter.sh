#!/usr/bin/env bash
# Dead-lettering on the real broker: 10,000 malformed messages (truncation,
# trailing garbage, framing errors, unknown and missing schema ids, random
# bytes, 1 GiB length claims, NaN) mixed into a valid stream. The service
# stays up; every malformed message (keyed bad-<n> by the generator) is on
# the dead-letter topic exactly once with its reason and origin headers and
# no valid one is; every valid event is learned from; the per-reason counts
# of the final report equal the tally of the dead-letter headers. Then the
# service restarts on the same group with a few new messages: only those are
# learned and dead-lettered (offsets of dead-lettered messages survived).
source "$(dirname "$0")/lib.sh"
BAD=${E2E_BAD:-10000}
VIEWS=${E2E_DLQ_VIEWS:-40000}
conf=$(make_conf deadletter dl1)
create_topics dl1

# Count the dead letters and check them; prints "total reason=count ...".
check_dlq() { # expected-bad-keys-count out-file
  "$BIN" tail -c "$conf" --dlq --exit-at-end >"$2" 2>"$WORK/tail-dlq.err" || { cat "$WORK/tail-dlq.err"; fail "tail --dlq"; }
  python3 - "$1" "$2" <<'EOF'
import collections, json, sys
want, path = int(sys.argv[1]), sys.argv[2]
rows = [json.loads(l) for l in open(path)]
keys = collections.Counter(r["key"] for r in rows)
origin = collections.Counter((r["headers"].get("mtlstream.topic"), r["headers"].get("mtlstream.partition"),
                              r["headers"].get("mtlstream.offset")) for r in rows)
errs = []
if len(rows) != want: errs.append("%d dead letters, expected %d" % (len(rows), want))
dups = [k for k, n in keys.items() if n > 1]
if dups: errs.append("%d keys dead-lettered more than once, e.g. %s" % (len(dups), dups[:5]))
if any(n > 1 for n in origin.values()): errs.append("an original (topic, partition, offset) is there twice")
notbad = [k for k in keys if not k.startswith("bad-")]
if notbad: errs.append("%d valid messages dead-lettered, e.g. %s" % (len(notbad), notbad[:5]))
for r in rows:
    h = r["headers"]
    miss = [n for n in ("mtlstream.reason", "mtlstream.error", "mtlstream.topic", "mtlstream.partition",
                        "mtlstream.offset") if not h.get(n)]
    if miss: errs.append("message %s lacks headers %s" % (r["key"], miss)); break
if errs:
    print("DLQ CHECK FAILED: " + "; ".join(errs)); sys.exit(1)
tally = collections.Counter(r["headers"]["mtlstream.reason"] for r in rows)
print(len(rows), " ".join("%s=%d" % kv for kv in sorted(tally.items())))
EOF
}

# Per-reason counts of the service's final report, in the same form.
report_tally() {
  local pairs total
  pairs=$(sed -n 's/^rejected \([a-z_]*\): \([0-9]*\)$/\1=\2/p' "$1" | LC_ALL=C sort | tr '\n' ' ')
  total=$(sed -n 's/^rejected [a-z_]*: \([0-9]*\)$/\1/p' "$1" | awk '{n += $1} END {print n + 0}')
  echo "${total:-0} ${pairs% }"
}

"$BIN" run -c "$conf" --idle-exit 8 >"$WORK/run1.out" 2>"$WORK/run1.err" &
svc=$!; PIDS+=($svc)
"$BIN" gen -c "$conf" --views "$VIEWS" --members 500 --companies 100 --seed 11 --bad "$BAD" --no-skills |
  tee "$WORK/gen1.out"
kill -0 $svc 2>/dev/null || fail "the service died while malformed input was arriving"
wait $svc; rc=$?
PIDS=()
echo "--- first run: exit $rc"; cat "$WORK/run1.out"
[ $rc -eq 0 ] || { tail -20 "$WORK/run1.err"; fail "service exited $rc"; }
read -r v a i s b < <(sed -n 's/^wrote \([0-9]*\) job views, \([0-9]*\) job applies, \([0-9]*\) InMail responses, \([0-9]*\) skill annotations, \([0-9]*\) malformed.*/\1 \2 \3 \4 \5/p' "$WORK/gen1.out")
[ "${b:-}" = "$BAD" ] || fail "generator wrote ${b:-?} malformed messages, expected $BAD"
valid=$((v + a + i + s))
learned=$(sed -n 's/^final: learned \([0-9]*\) events.*/\1/p' "$WORK/run1.out")
[ "$learned" = "$valid" ] || fail "learned ${learned:-?} events, the generator wrote $valid valid ones"
rejected=$(sed -n 's/.*; rejected \([0-9]*\);.*/\1/p' "$WORK/run1.out")
[ "$rejected" = "$BAD" ] || fail "the service counted ${rejected:-?} rejected, expected $BAD"
grep -q " $BAD dead-lettered messages (0 failed)" "$WORK/run1.out" || fail "not all dead letters delivered"
echo "dead-letter log lines (rate-limited): $(grep -c 'dead-lettered' "$WORK/run1.err" || true)"

dlq=$(check_dlq "$BAD" "$WORK/dlq1.jsonl") || { echo "$dlq"; fail "dead-letter topic"; }
rep=$(report_tally "$WORK/run1.out")
echo "dead-letter topic:   $dlq"
echo "service report:      $rep"
[ "$dlq" = "$rep" ] || fail "per-reason counts differ between the report and the dead-letter headers"
reasons=$(echo "$dlq" | wc -w)
[ "$reasons" -ge 6 ] || fail "expected at least 5 kinds of reason, got: $dlq"
grep -q "not_finite=" <<<"$dlq" || fail "no NaN was rejected as not_finite"

# Restart on the same group: a few new messages; nothing old comes back.
"$BIN" run -c "$conf" --idle-exit 6 >"$WORK/run2.out" 2>"$WORK/run2.err" &
svc=$!; PIDS+=($svc)
sleep 2
"$BIN" gen -c "$conf" --views 200 --members 500 --companies 100 --seed 12 --bad 16 --no-skills | tee "$WORK/gen2.out"
wait $svc; rc=$?
PIDS=()
echo "--- second run: exit $rc"; cat "$WORK/run2.out"
[ $rc -eq 0 ] || { tail -20 "$WORK/run2.err"; fail "restarted service exited $rc"; }
read -r v a i s b < <(sed -n 's/^wrote \([0-9]*\) job views, \([0-9]*\) job applies, \([0-9]*\) InMail responses, \([0-9]*\) skill annotations, \([0-9]*\) malformed.*/\1 \2 \3 \4 \5/p' "$WORK/gen2.out")
learned=$(sed -n 's/^final: learned \([0-9]*\) events.*/\1/p' "$WORK/run2.out")
[ "$learned" = "$((v + a + i + s))" ] || fail "after restart learned ${learned:-?}, expected only the $((v + a + i + s)) new events"
rejected=$(sed -n 's/.*; rejected \([0-9]*\);.*/\1/p' "$WORK/run2.out")
[ "$rejected" = "16" ] || fail "after restart rejected ${rejected:-?}, expected only the 16 new malformed messages"
# keys bad-0..bad-15 again: so count by origin, not key; total must be BAD + 16
"$BIN" tail -c "$conf" --dlq --exit-at-end >"$WORK/dlq2.jsonl" 2>/dev/null
n2=$(wc -l <"$WORK/dlq2.jsonl")
[ "$n2" = "$((BAD + 16))" ] || fail "dead-letter topic holds $n2 messages after the restart, expected $((BAD + 16))"
python3 -c '
import json, sys, collections
c = collections.Counter((r["headers"]["mtlstream.topic"], r["headers"]["mtlstream.partition"], r["headers"]["mtlstream.offset"])
                        for r in map(json.loads, open(sys.argv[1])))
sys.exit(1 if max(c.values()) > 1 else 0)' "$WORK/dlq2.jsonl" || fail "a message was dead-lettered twice across the restart"
echo "figure: dead-letter e2e: $BAD malformed in $valid valid, all on the DLQ once ($dlq); restart: +16 only"
