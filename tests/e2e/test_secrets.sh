#!/usr/bin/env bash
# No secret in any log line: a configuration with a SASL password and a TLS key
# password, security_protocol = SASL_PLAINTEXT against the plaintext broker (it
# cannot authenticate; that is fine), --log-level debug and librdkafka's own
# debug = "all" (which dumps its configuration). The run must log plenty,
# mention SASL, and never show either password, on stderr or stdout.
source "$(dirname "$0")/lib.sh"
conf=$(make_conf secrets s1)
pw='Zq7-hunter2-SASLPW'
keypw='TlsKey-998877-pw'
sed -i "s|^  # sasl_password = \"...\";|  security_protocol = \"SASL_PLAINTEXT\"; sasl_mechanisms = \"PLAIN\"; sasl_username = \"svc\";\\
  sasl_password = \"$pw\"; ssl_key_password = \"$keypw\"; debug = \"all\";|" "$conf"
grep -q "sasl_password = \"$pw\"" "$conf" || fail "test configuration not written"
"$BIN" run -c "$conf" --log-level debug >"$WORK/run.out" 2>"$WORK/run.err" &
svc=$!; PIDS+=($svc)
sleep 6
# a reload reads the file again: still nothing leaks
kill -HUP $svc
sleep 1
kill -TERM $svc
wait $svc || true
PIDS=()
lines=$(cat "$WORK/run.err" "$WORK/run.out" | wc -l)
echo "log lines: $lines"
[ "$lines" -gt 200 ] || fail "expected a verbose debug log, got $lines lines"
grep -qi 'sasl' "$WORK/run.err" || fail "the log does not mention SASL at all (was the config applied?)"
grep -q 'sasl.password = \[redacted\]' "$WORK/run.err" || fail "librdkafka's configuration dump is missing"
leaks=$(cat "$WORK/run.err" "$WORK/run.out" | grep -c -e "$pw" -e "$keypw" || true)
[ "$leaks" = 0 ] || { grep -n -e "$pw" -e "$keypw" "$WORK/run.err" | head; fail "$leaks log lines show a password"; }
echo "figure: secrets: $lines log lines at debug level (librdkafka debug=all, one reload): 0 contain the SASL or TLS key password"
