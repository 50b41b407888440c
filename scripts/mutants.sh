#!/usr/bin/env bash
# `make mutants`: cargo-mutants over src/domain and src/service (.cargo/mutants.toml), judged by
# the native unit and integration tests. Installs cargo-mutants if missing. Prints the share of
# mutants caught; the report is in mutants.out/ (missed.txt lists the survivors). Takes about an
# hour on two cores; MUTANTS_JOBS sets the parallel builds (2).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-mutants >/dev/null; then
  cargo install cargo-mutants --locked --version 27.1.0
fi
status=0
cargo mutants -j "${MUTANTS_JOBS:-2}" "$@" || status=$?
count() { [ -f "mutants.out/$1.txt" ] && wc -l < "mutants.out/$1.txt" || echo 0; }
caught=$(count caught); missed=$(count missed); timeout=$(count timeout); unviable=$(count unviable)
viable=$((caught + missed + timeout))
echo "mutants: ${caught} caught, ${missed} missed, ${timeout} timed out, ${unviable} unviable"
if [ "$viable" -gt 0 ]; then
  awk -v c="$caught" -v t="$timeout" -v v="$viable" 'BEGIN { printf "caught (timeouts count as caught): %.1f %%\n", 100 * (c + t) / v }'
fi
# cargo-mutants exits 2 when a mutant survives: the survivors are judged in docs/ASSURANCE.md.
[ "$status" -eq 0 ] || [ "$status" -eq 2 ] || exit "$status"
