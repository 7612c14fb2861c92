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

# The dashboard: built into frontend/dist, which the API serves at /. `npm ci` installs
# exactly frontend/package-lock.json (skipped when node_modules already matches it).
if command -v npm >/dev/null 2>&1; then
  (
    cd frontend
    lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
    if [ "$(cat node_modules/.autonomos-lock 2>/dev/null)" != "$lock_sum" ]; then
      npm ci --no-audit --no-fund --loglevel=error
      echo "$lock_sum" > node_modules/.autonomos-lock
    fi
    # tsc and vite report on stdout: shown only when the build fails
    out="$(npm run --silent build 2>&1)" || { echo "$out" >&2; echo "dashboard build failed" >&2; exit 1; }
  )
  echo "dashboard built: frontend/dist (served at / by the API)"
else
  echo "node/npm not found: the API runs without the dashboard (install Node 20+ and re-run)" >&2
fi

# The browser tests drive Debian's Chromium (never a downloaded browser build).
if [ ! -x /usr/bin/chromium ] && [ -z "${AUTONOMOS_SKIP_BROWSER:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    echo "chromium installed for the dashboard's browser tests"
  else
    echo "no /usr/bin/chromium: the dashboard's browser tests will skip (apt-get install chromium)" >&2
  fi
fi
