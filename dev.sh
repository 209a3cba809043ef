#!/usr/bin/env bash
# One entry point for a newcomer: creates .venv, installs the project with its
# dev tools (including `just`), then runs the named Justfile target.
#   ./dev.sh demo    run hub + store box + broker with a seeded demo tenant
#   ./dev.sh test    install everything and run lint, type checks and tests
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "error: $PY not found. Install Python 3.11+ (Debian: apt-get install python3 python3-venv)." >&2
  exit 1
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
exec just "${@:-test}"
