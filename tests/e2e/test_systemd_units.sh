#!/usr/bin/env bash
# The unit files as `make install` writes them: `systemd-analyze verify` on the
# service and on an instance of the replay template (real ExecStart paths, the
# installed man page for Documentation=), and `systemd-analyze security` of the
# service must be 2.5 or lower. Then `make uninstall` must leave no file behind.
# Works offline: systemd need not be PID 1. (No broker used.)
source "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (Debian package systemd; scripts/deps.sh)"
inst=$WORK/inst
mk=(PREFIX=$inst/usr SYSCONFDIR=$inst/etc UNITDIR=$inst/units SYSUSERSDIR=$inst/sysusers)
make -s install "${mk[@]}" >/dev/null
for f in usr/bin/mtlstream usr/share/man/man1/mtlstream.1 etc/mtlstream/mtlstream.conf.sample \
  units/mtlstream.service units/mtlstream-replay@.service sysusers/mtlstream.conf usr/share/mtlstream/schemas/job_view.avsc; do
  [ -f "$inst/$f" ] || fail "make install did not write $f"
done
grep -q "^ExecStart=$inst/usr/bin/mtlstream run -c $inst/etc/mtlstream/mtlstream.conf\$" "$inst/units/mtlstream.service" ||
  fail "ExecStart not rewritten for PREFIX/SYSCONFDIR"
# The sample configuration points at the installed schemas and loads as is.
"$inst/usr/bin/mtlstream" schema unify -c "$inst/etc/mtlstream/mtlstream.conf.sample" >/dev/null ||
  fail "installed sample configuration does not load"

export MANPATH=$inst/usr/share/man
cd "$inst/units"
echo "--- systemd-analyze verify mtlstream.service"
systemd-analyze verify ./mtlstream.service || fail "verify mtlstream.service"
cp mtlstream-replay@.service mtlstream-replay@nightly.service
echo "--- systemd-analyze verify mtlstream-replay@nightly.service"
systemd-analyze verify ./mtlstream-replay@nightly.service || fail "verify mtlstream-replay@.service"
echo "verify: both unit files pass"
rm mtlstream-replay@nightly.service
for u in mtlstream.service mtlstream-replay@.service; do
  # every hardening line carries a comment: no two directives in a row without one
  awk '/^# --- Hardening/{h=1} /^\[/{h=0} h && /^[A-Z]/ && !c {print FILENAME": "$0" has no comment"; bad=1} {c=/^#/ || (c && /^[A-Z]/)} END{exit bad}' "$u" ||
    fail "$u: uncommented hardening directive"
done
security=$(systemd-analyze security --offline=yes --no-pager ./mtlstream.service 2>&1) || true
echo "$security" | grep -v '^✓'
score=$(echo "$security" | sed -n 's/.*Overall exposure level for mtlstream.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no exposure score"
awk -v s="$score" 'BEGIN{exit !(s <= 2.5)}' || fail "exposure $score > 2.5"
echo "figure: systemd-analyze security mtlstream.service: exposure $score (limit 2.5); verify passes on both units"

cd "$ROOT"
make -s uninstall "${mk[@]}" >/dev/null
left=$(find "$inst" -type f | wc -l)
[ "$left" -eq 0 ] || { find "$inst" -type f; fail "make uninstall left $left files"; }
echo "make install / uninstall: clean"
