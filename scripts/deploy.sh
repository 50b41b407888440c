#!/usr/bin/env bash
# `make deploy`: deploy keyward to a Cloudflare account in one command. Idempotent: a second run
# changes nothing but deploys both Workers again.
#   1. checks that wrangler is logged in (wrangler login, or CLOUDFLARE_API_TOKEN and
#      CLOUDFLARE_ACCOUNT_ID) and that wrangler.toml and wrangler.verify.toml agree;
#   2. finds the KV namespace titled $KEYWARD_KV_TITLE (keyward-TOKENS), or the one the configs
#      already name if the account has it, and creates it only when there is none;
#   3. writes its id into the TOKENS binding of both configs (that line only);
#   4. wrangler deploy: the full Worker "keyward" (applies its Durable Object migrations);
#   5. sets the OPERATOR_SECRET secret only if the Worker does not have it: from $OPERATOR_SECRET,
#      else from $OPERATOR_SECRET_FILE (.operator-secret) if it exists, else 32 random bytes
#      (base64url) written to that file (mode 600), never printed;
#   6. wrangler deploy -c wrangler.verify.toml: the verify-only Worker "keyward-verify", which
#      binds the full Worker's OrgAuthority class, so it comes second.
# The secret is set after the first deploy because wrangler has no Worker to list secrets of
# before it; until it is set (seconds, first run only) org creation is refused.
#
# `scripts/deploy.sh --dry-run` (or DRY_RUN=1) needs no account: it checks the configs, runs
# `wrangler deploy --dry-run` for each Worker (which runs its [build] command) and checks each
# bundle and the bindings wrangler lists. `make deploy-check` runs it in `make test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false
WRANGLER="${WRANGLER:-wrangler}"
KV_TITLE="${KEYWARD_KV_TITLE:-keyward-TOKENS}"
SECRET_FILE="${OPERATOR_SECRET_FILE:-.operator-secret}"
case "$SECRET_FILE" in /*) ;; *) SECRET_FILE="$root/$SECRET_FILE" ;; esac
FULL=wrangler.toml
VERIFY=wrangler.verify.toml

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() {
  printf 'deploy: %s\n' "$*" >&2
  exit 1
}
cfg() { node scripts/deploy-config.mjs "$@"; }

dry_run="${DRY_RUN:-0}"
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    *) die "unknown argument $arg (usage: scripts/deploy.sh [--dry-run])" ;;
  esac
done

if [ "$dry_run" = 1 ]; then
  export CLOUDFLARE_CF_FETCH_ENABLED=false
  say "dry run: no account needed, nothing is uploaded"
  say "the two configs agree"
  cfg check
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  for which in full verify; do
    if [ "$which" = full ]; then config=$FULL; else config=$VERIFY; fi
    say "wrangler deploy --dry-run -c $config (runs its [build] command)"
    if ! "$WRANGLER" deploy --dry-run -c "$config" --outdir "$out/$which" >"$out/$which.log" 2>&1; then
      tail -n 40 "$out/$which.log" >&2
      die "wrangler deploy --dry-run -c $config failed (last lines above)"
    fi
    cfg check-dry-run "$which" "$config" "$out/$which.log" "$out/$which"
  done
  say "dry run passed"
  exit 0
fi

say "checking that wrangler is logged in, and the configs"
errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
if ! whoami="$("$WRANGLER" whoami --json 2>"$errors")"; then
  if [[ "$whoami" == *'"loggedIn":false'* ]]; then
    die "wrangler is not logged in. Either run \`node_modules/.bin/wrangler login\` (a browser), or
export CLOUDFLARE_API_TOKEN (an API token, e.g. from the \"Edit Cloudflare Workers\" template) and
CLOUDFLARE_ACCOUNT_ID (the account to deploy to), then run make deploy again."
  fi
  cat "$errors" >&2
  die "wrangler whoami failed (above)"
fi
preflight="$(printf '%s' "$whoami" | cfg preflight)" || die "nothing was changed: fix the above, then run make deploy again"
echo "$preflight"

say "KV namespace for TOKENS"
current="$(cfg tokens-id "$FULL")"
list="$("$WRANGLER" kv namespace list)"
id="$(printf '%s' "$list" | cfg kv-id "$KV_TITLE" "$current")"
if [ -z "$id" ]; then
  echo "no namespace titled $KV_TITLE: creating it"
  "$WRANGLER" kv namespace create "$KV_TITLE"
  list="$("$WRANGLER" kv namespace list)"
  id="$(printf '%s' "$list" | cfg kv-id "$KV_TITLE" "$current")"
  [ -n "$id" ] || die "created $KV_TITLE, but wrangler kv namespace list does not show it"
elif [ "$id" = "$current" ]; then
  echo "using $id, which $FULL already names"
else
  echo "using $id, titled $KV_TITLE"
fi
cfg set-tokens-id "$id" "$FULL"
cfg set-tokens-id "$id" "$VERIFY"

say "wrangler deploy ($FULL: the Worker keyward, its Durable Object migrations)"
"$WRANGLER" deploy -c "$FULL"

say "secret OPERATOR_SECRET of keyward"
secrets="$("$WRANGLER" secret list -c "$FULL")"
has=0
printf '%s' "$secrets" | cfg has-secret OPERATOR_SECRET || has=$?
if [ "$has" = 0 ]; then
  echo "already set: kept (to replace it: wrangler secret put OPERATOR_SECRET)"
elif [ "$has" != 1 ]; then
  die "could not read wrangler secret list"
else
  if [ -n "${OPERATOR_SECRET:-}" ]; then
    secret="$OPERATOR_SECRET"
    echo "setting it from \$OPERATOR_SECRET"
  elif [ -s "$SECRET_FILE" ]; then
    secret="$(cat "$SECRET_FILE")"
    echo "setting it from $SECRET_FILE (left by an earlier run)"
  else
    (umask 077 && node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))' >"$SECRET_FILE")
    secret="$(cat "$SECRET_FILE")"
    echo "generated a new one into $SECRET_FILE (mode 600)"
  fi
  # printf is a shell builtin: the secret goes through a pipe, never a command line.
  printf '%s' "$secret" | "$WRANGLER" secret put OPERATOR_SECRET -c "$FULL"
  unset secret
  if [ -z "${OPERATOR_SECRET:-}" ]; then
    echo "The operator secret is in $SECRET_FILE: read it once, keep it somewhere safe, then delete the file."
  fi
fi

say "wrangler deploy -c $VERIFY (the Worker keyward-verify, bound to keyward's OrgAuthority)"
"$WRANGLER" deploy -c "$VERIFY"

say "deployed keyward and keyward-verify (KV namespace $id)"
grep '^warning: ' <<<"$preflight" || true
