#!/usr/bin/env bash
# Write .dev.vars (git-ignored; wrangler dev reads it for both Workers of `make dev`): a random
# OPERATOR_SECRET unless it has one, and the local-development settings of the full Worker unless
# it sets them: webhooks to http:// and loopback receivers, and the page's address for the links
# in notification emails. A deployment never reads this file.
set -euo pipefail
cd "$(dirname "$0")/.."
touch .dev.vars
chmod 600 .dev.vars
if ! grep -q '^OPERATOR_SECRET=' .dev.vars; then
  secret=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
  printf 'OPERATOR_SECRET=%s\n' "$secret" >> .dev.vars
  echo "Wrote a new OPERATOR_SECRET to $(pwd)/.dev.vars (git-ignored)."
fi
grep -q '^WEBHOOK_ALLOW_INSECURE=' .dev.vars || printf 'WEBHOOK_ALLOW_INSECURE=true\n' >> .dev.vars
grep -q '^PUBLIC_URL=' .dev.vars || printf 'PUBLIC_URL=http://127.0.0.1:8787\n' >> .dev.vars
echo "Operator secret: $(pwd)/.dev.vars"
