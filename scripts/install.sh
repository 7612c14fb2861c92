#!/usr/bin/env bash
# Install AutonomOS into ./.venv from the project's own files (pyproject + requirements.lock).
#   scripts/install.sh           runtime + dev tools (tests, linters)
#   EXTRAS=mongo scripts/install.sh   add optional extras (comma separated; gpu = vLLM)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" - <<'PY' || { echo "AutonomOS needs Python >= 3.11" >&2; exit 2; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
extras="dev${EXTRAS:+,$EXTRAS}"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c requirements.lock -e ".[${extras}]"
echo "installed: $(.venv/bin/autonomos --help >/dev/null && echo autonomos CLI ready in .venv/bin)"
