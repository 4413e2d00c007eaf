# tests/e2e/ckpt_lib.sh - helpers for the checkpoint tests (sourced after lib.sh).

# ckpt_conf NAME PREFIX INTERVAL_S [INSTANCE_ID]: a test configuration that
# checkpoints often and notices a dead group member within 6 s. With
# INSTANCE_ID, static group membership (group.instance.id): a restarted
# instance gets its partitions back at once instead of waiting for the
# killed one's session to time out.
ckpt_conf() {
  local c
  c=$(make_conf "$1" "$2")
  sed -i -e "s/checkpoint_interval_s = 30/checkpoint_interval_s = $3/" \
    -e "s/^\(  bootstrap_servers = .*\)$/\1\n  session_timeout_ms = 6000;\n  heartbeat_interval_ms = 1000;${4:+\n  group_instance_id = \"$4\";}/" "$c"
  echo "$c"
}

# check_accounting CONF CHECKPOINT...: for every input partition, the events
# learned + dead-lettered summed over the checkpoints equal end - start
# offset, and the group's committed offset is not ahead of the furthest
# checkpoint. Prints one figure line.
check_accounting() {
  local conf=$1; shift
  "$BUILD/tests/group_offsets" "$conf" >"$WORK/offsets.txt" || fail "group_offsets failed"
  for f in "$@"; do "$BIN" checkpoint show "$f"; done >"$WORK/ckpts.jsonl" || fail "checkpoint show failed"
  python3 - "$WORK/offsets.txt" "$WORK/ckpts.jsonl" <<'PY'
import json, sys
offs = [l.split() for l in open(sys.argv[1]) if l.strip()]
ck = [json.loads(l) for l in open(sys.argv[2])]
bad = 0; total = 0; events = 0
for topic, part, lo, hi, com in offs:
    part, lo, hi, com = int(part), int(lo), int(hi), int(com)
    got = [p for c in ck for p in c["partitions"] if p["topic"] == topic and p["partition"] == part]
    n = sum(p["learned"] + p["dead_lettered"] for p in got)
    furthest = max([p["next_offset"] for p in got], default=-1)
    total += hi - lo; events += n
    if n != hi - lo:
        print(f"FAIL: {topic} [{part}]: checkpoints count {n} events, the partition holds {hi - lo} ({lo}..{hi})"); bad = 1
    if com > furthest and not (com == lo and furthest == -1):
        print(f"FAIL: {topic} [{part}]: committed offset {com} is ahead of the checkpoint's {furthest}"); bad = 1
print(f"figure: accounting over {len(offs)} partitions: {events} events in checkpoints, {total} in the topics, "
      f"{'exact' if not bad else 'MISMATCH'}")
sys.exit(bad)
PY
}

# wait_for FILE PATTERN SECONDS
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
