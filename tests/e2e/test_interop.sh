#!/usr/bin/env bash
# Interoperability with an independent Avro implementation (fastavro, from
# PyPI into build/pyenv by scripts/pyenv.sh): for every schema in schemas/,
# seeded random records encoded by fastavro decode identically with the
# project's generic codec and its decode plans, and records the project
# encodes decode identically in fastavro (tests/tools/interop.py). No broker.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
[ -x "$BUILD/tests/avro_tool" ] || { echo "FAIL: $BUILD/tests/avro_tool is not built"; exit 1; }
py=$(scripts/pyenv.sh) || { echo "FAIL: no python with fastavro"; exit 1; }
"$py" tests/tools/interop.py --tool "$BUILD/tests/avro_tool" --n "${INTEROP_N:-400}" --seed "${INTEROP_SEED:-1}"
