#!/usr/bin/env bash
# Window benchmark: `outpost` over replicas of 1,000 and 100,000 submissions and materials, with
# each renderer, under Xvfb: time to the first frame, peak RSS, CPU per frame while scrolling
# the longest list, CPU of an idle window. Results go to stdout and into docs/benchmarks.md.
#
# Usage: bench/client/run.sh [--records N]... [--renderer auto|opengl|software]... [--no-write]
#   --records N    records per collection (default: 1000 and 100000)
#   --renderer R   auto (no flag: what the window picks; the targets are judged on it), opengl or
#                  software (default: all three)
#   --no-write     print the report without updating docs/benchmarks.md
# Environment: BUILD_DIR (default: build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build="${BUILD_DIR:-build}"

bench_args=()
command="bench/client/run.sh"
write=1
while [ $# -gt 0 ]; do
  case "$1" in
    --records|--renderer)
      bench_args+=("$1" "${2:?$1 needs a value}"); command+=" $1 $2"; shift 2 ;;
    --no-write) write=0; shift ;;
    *) sed -n '2,11p' bench/client/run.sh >&2; exit 2 ;;
  esac
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOUTPOST_WERROR=ON >&2
fi
cmake --build "$build" --target outpost_bench_client outpost >&2

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
# A screen as large as the window; 24-bit colour as on a real display. -noreset: a desktop's
# display server has other clients (the window manager, a panel) and goes on as the window
# closes. Xvfb, with the window as its only client, would reset after each of the bench's starts,
# running xkbcomp to rebuild its keymap, and the next start would wait 30 to 50 ms for it, as no
# user's start does.
xvfb-run -a -s "-noreset -screen 0 1280x800x24" "$build/bench/outpost_bench_client" "${bench_args[@]}" >"$results"

report_args=(--results "$results" --command "$command")
[ "$write" = 1 ] && report_args+=(--write docs/benchmarks.md)
node bench/client/report.js "${report_args[@]}"
