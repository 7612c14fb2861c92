#!/usr/bin/env bash
# Re-resolve the dependencies in a throw-away venv and rewrite requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --upgrade pip
"$tmp/venv/bin/pip" install --quiet -e ".[dev]"
{ echo "# Locked versions for every dependency (default + dev extras), used as pip constraints by"
  echo "# scripts/install.sh. Regenerate with: scripts/lock.sh"
  "$tmp/venv/bin/pip" freeze --exclude-editable | grep -v '^autonomos'; } > requirements.lock
rm -rf "$tmp"
echo "requirements.lock updated"
