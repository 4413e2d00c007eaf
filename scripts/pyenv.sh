#!/usr/bin/env bash
# scripts/pyenv.sh - a Python virtual environment in build/pyenv with fastavro,
# the independent Avro implementation the interoperability test compares
# against (tests/e2e/test_interop.sh). Does nothing when it is already there;
# prints the environment's python on stdout.
#   scripts/pyenv.sh [--check]     --check: only report (exit 1 if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
FASTAVRO_VERSION=${FASTAVRO_VERSION:-1.13.1}
py=build/pyenv/bin/python
if [ -x $py ] && $py -c "import fastavro" 2>/dev/null; then
  echo "$(pwd)/$py"
  exit 0
fi
if [ "${1:-}" = --check ]; then
  echo "pyenv.sh: build/pyenv with fastavro is missing (scripts/pyenv.sh creates it)" >&2
  exit 1
fi
command -v python3 >/dev/null || { echo "pyenv.sh: python3 is not installed" >&2; exit 1; }
mkdir -p build
python3 -m venv build/pyenv >&2 || { echo "pyenv.sh: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
build/pyenv/bin/pip install -q --disable-pip-version-check "fastavro==$FASTAVRO_VERSION" >&2
$py -c "import fastavro" && echo "$(pwd)/$py"
