#!/usr/bin/env bash
# Sync benchmark: Outpost pushes and pulls 10,000 and 100,000 records through the real registry
# on loopback, PouchDB 9 replicates the same 10,000 documents to express-pouchdb in the same run,
# and the comparison goes to stdout and into docs/benchmarks.md.
#
# Usage: bench/sync/run.sh [--docs N]... [--repeat R] [--no-write]
#   --docs N    Outpost record counts (default: 10000 and 100000); PouchDB runs the first
#   --repeat R  runs of the first count, Outpost and PouchDB taking turns; each phase reports
#               its fastest run, the other counts run once (default: 3)
#   --no-write  print the report without updating docs/benchmarks.md
# Environment: BUILD_DIR (default: build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build="${BUILD_DIR:-build}"

docs=()
repeat=3
write=1
while [ $# -gt 0 ]; do
  case "$1" in
    --docs) docs+=("${2:?--docs needs a number}"); shift 2 ;;
    --repeat) repeat="${2:?--repeat needs a number}"; shift 2 ;;
    --no-write) write=0; shift ;;
    *) sed -n '2,11p' bench/sync/run.sh >&2; exit 2 ;;
  esac
done
[ ${#docs[@]} -gt 0 ] || docs=(10000 100000)

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -G Ninja -DOUTPOST_WERROR=ON >&2
fi
cmake --build "$build" --target outpost_bench_sync outpost-registry >&2

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

# Taking turns spreads the machine's other load over both systems alike.
for ((i = 1; i <= repeat; i++)); do
  echo "[bench/sync] run $i/$repeat: Outpost and PouchDB, ${docs[0]} records" >&2
  "$build/bench/outpost_bench_sync" --docs "${docs[0]}" >>"$results/outpost.jsonl"
  bench/pouchdb/run.sh --docs "${docs[0]}" >>"$results/pouchdb.jsonl"
done
for n in "${docs[@]:1}"; do
  echo "[bench/sync] Outpost, $n records" >&2
  "$build/bench/outpost_bench_sync" --docs "$n" >>"$results/outpost.jsonl"
done

command="bench/sync/run.sh"
[ ${#docs[@]} -eq 2 ] && [ "${docs[0]}" = 10000 ] && [ "${docs[1]}" = 100000 ] || command+="$(printf ' --docs %s' "${docs[@]}")"
[ "$repeat" = 3 ] || command+=" --repeat $repeat"
report_args=(--ours "$results/outpost.jsonl" --pouch "$results/pouchdb.jsonl" --command "$command")
[ "$write" = 1 ] && report_args+=(--write docs/benchmarks.md)
node bench/sync/report.js "${report_args[@]}"
