#!/usr/bin/env bash
# systemd notifications against the real broker: the service runs with
# NOTIFY_SOCKET pointing at a datagram socket this test owns (notify_sink) and
# WATCHDOG_USEC=2 s. Asserts: READY=1 comes once, after start-up work
# (EXTEND_TIMEOUT_USEC first) and carries the subscription status; WATCHDOG=1
# arrives at least every WATCHDOG_USEC/2 from READY to STOPPING; STATUS= lines
# with throughput and lag; on SIGTERM STOPPING=1 and then exit code 0.
source "$(dirname "$0")/lib.sh"
conf=$(make_conf notify n1)
sed -i 's/status_interval_s = 3;/status_interval_s = 1;/' "$conf"
create_topics n1
sock=$WORK/notify.sock
"$BUILD/tests/notify_sink" "$sock" "$WORK/notify.log" &
sink=$!; PIDS+=($sink)
wait_for 5 test -S "$sock" || fail "notify_sink did not bind $sock"

NOTIFY_SOCKET=$sock WATCHDOG_USEC=2000000 "$BIN" run -c "$conf" >"$WORK/run.out" 2>"$WORK/run.err" &
svc=$!; PIDS+=($svc)
wait_for 30 grep -q '^[0-9]* READY=1' "$WORK/notify.log" || { cat "$WORK/run.err"; fail "no READY=1 within 30 s"; }
"$BIN" gen -c "$conf" --views 20000 --no-skills --seed 5 >/dev/null
wait_for 30 grep -q 'STATUS=learning: .* [1-9][0-9]* learned' "$WORK/notify.log" || fail "no STATUS line with learned events"
sleep 4
kill -TERM $svc
wait $svc; rc=$?
PIDS=($sink)
sleep 0.3
kill $sink; wait $sink 2>/dev/null || true
echo "--- notifications (WATCHDOG lines omitted):"
grep -v ' WATCHDOG=1$' "$WORK/notify.log"
[ $rc -eq 0 ] || { tail "$WORK/run.err"; fail "exit code $rc after SIGTERM (want 0)"; }

log=$WORK/notify.log
first=$(head -1 "$log" | cut -d' ' -f2-)
[[ $first == EXTEND_TIMEOUT_USEC=* ]] || fail "first notification is '$first', want EXTEND_TIMEOUT_USEC before start-up work"
[ "$(grep -c ' READY=1|STATUS=subscribed' "$log")" -eq 1 ] || fail "want exactly one start-up READY=1 with the subscription status"
# READY=1 is sent by ops_ready() after intake_subscribe() returned; its STATUS says so.
grep -q 'READY=1|STATUS=subscribed to 4 topic(s) in group n1-group' "$log" || fail "READY=1 does not report the subscription"
grep -q 'STATUS=learning: [0-9]* events/s, [0-9]* learned, 0 rejected, lag [0-9]* on [0-9]* partition(s)' "$log" ||
  fail "STATUS lines lack throughput and lag"
ready_t=$(awk '/ READY=1\|STATUS=subscribed/{print $1; exit}' "$log")
stop_t=$(awk '/ STOPPING=1/{print $1; exit}' "$log")
[ -n "$stop_t" ] || fail "no STOPPING=1"
# the last notification before exit is the STOPPING one (plus its timeout extension)
tail -2 "$log" | grep -q 'STOPPING=1' || fail "STOPPING=1 is not among the last notifications"
pings=$(awk -v a="$ready_t" -v b="$stop_t" '/ WATCHDOG=1$/ && $1 >= a && $1 <= b' "$log" | wc -l)
maxgap=$(awk -v a="$ready_t" -v b="$stop_t" '/ WATCHDOG=1$/ && $1 >= a && $1 <= b {if (p) {g = $1 - p; if (g > m) m = g}; p = $1}
  END {print m + 0}' "$log")
# also the gap from READY to the first ping and from the last ping to STOPPING
edge=$(awk -v a="$ready_t" -v b="$stop_t" '/ WATCHDOG=1$/ && $1 >= a && $1 <= b {if (!f) f = $1; l = $1}
  END {g1 = f - a; g2 = b - l; print (g1 > g2 ? g1 : g2)}' "$log")
span=$((stop_t - ready_t))
echo "figure: notify: READY=1 after subscription, $pings WATCHDOG=1 in $span ms, largest gap $maxgap ms (edge $edge ms; limit 1000 = WATCHDOG_USEC/2), STOPPING=1, exit 0"
[ "$pings" -ge $((span / 1000)) ] || fail "too few watchdog pings: $pings in $span ms"
[ "$maxgap" -le 1000 ] && [ "$edge" -le 1000 ] || fail "watchdog gap $maxgap / $edge ms exceeds WATCHDOG_USEC/2"
