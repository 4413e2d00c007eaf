#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages mtlstream needs to build, test and
# run its local Kafka broker (systemd for systemd-analyze, prometheus for
# promtool, curl: the ops tests).
#
# It asks dpkg-query which packages are not installed and does nothing else
# when none is missing, so it costs a fraction of a second on a prepared
# machine. It also makes build/pyenv with fastavro from PyPI (scripts/pyenv.sh)
# for the interoperability test. Java and Maven are wanted only when no `java` (17 or newer) or
# `mvn` is on the PATH, so a JDK installed another way is kept. As root it
# runs `apt-get update` once and installs what is missing; as another user it
# prints the exact command to run.
#
# usage: scripts/deps.sh            install what is missing (root)
#        scripts/deps.sh --check    only report; exit 1 if something is missing
# Exit codes: 0 all present (or installed), 1 missing / install failed, 2 usage.
set -euo pipefail

PACKAGES=(build-essential pkg-config librdkafka-dev libavro-dev libopenblas-dev libconfig-dev
    libcmocka-dev libjansson-dev libsystemd-dev libmicrohttpd-dev valgrind time clang libclang-rt-14-dev
    python3 python3-venv systemd prometheus curl)

check_only=0
case ${1:-} in
"") ;;
--check) check_only=1 ;;
-h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
*)
    echo "deps.sh: unknown option '$1' (try --help)" >&2
    exit 2
    ;;
esac

installed() {
    [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ii* ]]
}

java_ok() {
    command -v java >/dev/null 2>&1 || return 1
    local v
    v=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
    [[ ${v%%.*} =~ ^[0-9]+$ ]] && ((${v%%.*} >= 17))
}

command -v dpkg-query >/dev/null 2>&1 || {
    echo "deps.sh: dpkg-query not found; this script is for Debian 12 (install the packages listed in it by hand)" >&2
    exit 1
}

missing=()
for p in "${PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
done
java_ok || missing+=(default-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)

# fastavro (PyPI) in build/pyenv, for the interoperability test; not a Debian package.
pyenv_ok() {
    if ((check_only)); then
        "$(dirname "$0")/pyenv.sh" --check >/dev/null
    else
        "$(dirname "$0")/pyenv.sh" >/dev/null
    fi
}

if ((${#missing[@]} == 0)); then
    pyenv_ok || exit 1
    echo "deps.sh: all dependencies present"
    exit 0
fi

apt_install=(apt-get install -y --no-install-recommends "${missing[@]}")
echo "deps.sh: missing: ${missing[*]}"
if ((check_only)); then
    exit 1
fi
if (($(id -u) != 0)); then
    echo "deps.sh: not root; run:" >&2
    echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive ${apt_install[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
"${apt_install[@]}"

still=()
for p in "${missing[@]}"; do
    case $p in
    default-jre-headless) java_ok || still+=("$p (java 17+ not on PATH)") ;;
    maven) command -v mvn >/dev/null 2>&1 || still+=("$p (mvn not on PATH)") ;;
    *) installed "$p" || still+=("$p") ;;
    esac
done
if ((${#still[@]})); then
    echo "deps.sh: still missing after apt-get: ${still[*]}" >&2
    exit 1
fi
pyenv_ok || exit 1
echo "deps.sh: installed ${missing[*]}"
