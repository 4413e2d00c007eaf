#!/usr/bin/env bash
# scripts/mkconf.sh OUT [PREFIX] [BOOTSTRAP] [SOURCE] - a run-time copy of conf/mtlstream.conf (or SOURCE)
# for the demo, tests and benchmarks: absolute schema paths (so OUT may live
# anywhere), the given broker, every topic and the consumer group prefixed with
# PREFIX (so runs do not share state), the state directory (checkpoints) next to
# OUT as PREFIX.state, status lines every 3 s, and the metrics endpoint on any
# free loopback port (logged), so parallel runs never collide.
set -euo pipefail
out=$1 prefix=${2:-} bootstrap=${3:-127.0.0.1:19092} src=${4:-conf/mtlstream.conf}
root=$(cd "$(dirname "$0")/.." && pwd)
p=${prefix:+$prefix.}
mkdir -p "$(dirname "$out")"
state=$(cd "$(dirname "$out")" && pwd)/${prefix:-mtlstream}.state  # checkpoints, next to OUT
sed -e "s#\"\\.\\./schemas/#\"$root/schemas/#g" \
    -e "s#bootstrap_servers = \"[^\"]*\"#bootstrap_servers = \"$bootstrap\"#" \
    -e "s#topic = \"\\([a-z.]*\\)\"#topic = \"$p\\1\"#g" \
    -e "s#group_id = \"mtlstream\"#group_id = \"${prefix:-mtlstream}-group\"#" \
    -e "s#status_interval_s = 10#status_interval_s = 3#" \
    -e "s#metrics_listen = \"127.0.0.1:9464\"#metrics_listen = \"127.0.0.1:0\"#" \
    -e "s#state_dir = \"[^\"]*\"#state_dir = \"$state\"#" \
    "$root/$src" >"$out"
