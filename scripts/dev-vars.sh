#!/usr/bin/env bash
# Write .dev.vars with a random OPERATOR_SECRET unless it exists (it is git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f .dev.vars ]; then
  secret=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
  printf 'OPERATOR_SECRET=%s\n' "$secret" > .dev.vars
  chmod 600 .dev.vars
  echo "Wrote $(pwd)/.dev.vars with a new OPERATOR_SECRET (git-ignored)."
fi
echo "Operator secret: $(pwd)/.dev.vars"
