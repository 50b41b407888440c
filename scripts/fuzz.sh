#!/usr/bin/env bash
# `make fuzz`: coverage-guided fuzzing (cargo-fuzz, libFuzzer) of every parser and validator of
# outside input, FUZZ_SECONDS per target (default 600), FUZZ_JOBS targets at a time (default 2).
# Installs what it needs: a nightly toolchain (rustup) and cargo-fuzz. Never part of `make test`.
# Each target starts from the committed seeds (fuzz/corpus/<target>) copied into fuzz/work/;
# logs and crashes land in fuzz/results/ and fuzz/artifacts/ (git-ignored). Prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-600}"
jobs="${FUZZ_JOBS:-2}"
targets=(${FUZZ_TARGETS:-token forms cursor verify_body cidr ip leak})

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "==> rust nightly (cargo-fuzz needs it)"
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null; then
  echo "==> cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
(cd fuzz && cargo +nightly fuzz build -O)
mkdir -p fuzz/results fuzz/work
run() {
  local t=$1
  rm -rf "fuzz/work/$t" && cp -r "fuzz/corpus/$t" "fuzz/work/$t"
  (cd fuzz && cargo +nightly fuzz run -O "$t" "work/$t" -- -max_total_time="$seconds" -print_final_stats=1 \
    > "results/$t.log" 2>&1) && echo "ok" > "fuzz/results/$t.status" || echo "FAILED" > "fuzz/results/$t.status"
}
running=0
for t in "${targets[@]}"; do
  run "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
printf '%-12s %-7s %14s %10s %8s\n' target result executions exec/s corpus
status=0
for t in "${targets[@]}"; do
  log="fuzz/results/$t.log"
  execs=$({ grep -oE 'stat::number_of_executed_units: +[0-9]+' "$log" || true; } | awk '{print $2}' | tail -1)
  rate=$({ grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" || true; } | awk '{print $2}' | tail -1)
  corpus=$(find "fuzz/work/$t" -type f | wc -l)
  result=$(cat "fuzz/results/$t.status")
  [ "$result" = ok ] || status=1
  printf '%-12s %-7s %14s %10s %8s\n' "$t" "$result" "${execs:-?}" "${rate:-?}" "$corpus"
done
exit $status
