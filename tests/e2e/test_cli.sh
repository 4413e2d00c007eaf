#!/usr/bin/env bash
# The command line: --help everywhere, documented exit codes, configuration
# errors that name the file, line and setting, and `schema unify`.
source "$(dirname "$0")/lib.sh"

expect() { # expected-exit-code description command...
  local want=$1 what=$2; shift 2
  set +e; "$@" >"$WORK/out" 2>"$WORK/err"; local rc=$?; set -e
  [ $rc -eq "$want" ] || { cat "$WORK/out" "$WORK/err"; fail "$what: exit $rc, expected $want"; }
  echo "ok: $what (exit $rc)"
}

expect 64 "no command" "$BIN"
expect 64 "unknown command" "$BIN" frobnicate
for c in run gen tail schema; do
  expect 0 "$c --help" "$BIN" $c --help
  grep -q "usage: mtlstream $c" "$WORK/out" || fail "$c --help prints no usage"
done
expect 0 "top-level --help lists exit codes" "$BIN" --help
grep -q "78 configuration error" "$WORK/out" || fail "exit codes not documented in --help"
expect 64 "run without -c" "$BIN" run
expect 66 "run with a missing file" "$BIN" run -c "$WORK/nope.conf"

conf=$(make_conf cli cli)
sed 's/batch_size = 256;/batch_size = -3;/' "$conf" >"$WORK/bad1.conf"
expect 78 "out-of-range value" "$BIN" run -c "$WORK/bad1.conf"
line=$(grep -n 'batch_size = -3' "$WORK/bad1.conf" | cut -d: -f1)
grep -q "bad1.conf:$line: input.batch_size" "$WORK/err" || { cat "$WORK/err"; fail "error does not name file:line:setting"; }
sed 's/label = "viewed"/label = "clicked"/' "$conf" >"$WORK/bad2.conf"
expect 78 "label field not in the schema" "$BIN" run -c "$WORK/bad2.conf"
grep -q 'label field "clicked"' "$WORK/err" || { cat "$WORK/err"; fail "error does not name the field"; }
sed 's#schema = "[^"]*job_view.avsc"#schema = "/nonexistent.avsc"#' "$conf" >"$WORK/bad3.conf"
expect 66 "missing schema file" "$BIN" run -c "$WORK/bad3.conf"
line=$(grep -n 'schema = "/nonexistent.avsc"' "$WORK/bad3.conf" | cut -d: -f1)
grep -q "bad3.conf:$line: tasks.schema: /nonexistent.avsc: cannot read" "$WORK/err" || { cat "$WORK/err"; fail "error does not name file:line and the schema file"; }
sed 's/framing = "confluent"/framing = "confluentt"/' "$conf" >"$WORK/bad4.conf"
expect 78 "unknown framing, also in schema unify" "$BIN" schema unify -c "$WORK/bad4.conf"
grep -q "input.framing" "$WORK/err" || fail "framing error does not name the setting"

expect 0 "schema unify" "$BIN" schema unify -c "$conf"
grep -Eq '^member_id +long +job_view,job_apply,inmail ' "$WORK/out" || { cat "$WORK/out"; fail "member_id not shared by the three affinity tasks"; }
grep -Eq '^viewed +long +job_view ' "$WORK/out" || fail "viewed is not specific to job_view"
echo "figure: unified layout has $(($(wc -l <"$WORK/out") - 1)) fields"
expect 0 "config defaults" "$BIN" config
grep -q "input.batch_size" "$WORK/out" || fail "config listing lacks input.batch_size"
echo "all CLI checks passed"
