#!/usr/bin/env bash
# Baseline PouchDB replication benchmark (loopback only).
# Usage: bench/pouchdb/run.sh [--docs N] [--no-compression]
# Prints one JSON line on stdout; logs go to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "bench/pouchdb: node and npm are required" >&2
  exit 1
fi

if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bench/pouchdb: installing dependencies into $(pwd)/node_modules" >&2
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error 1>&2
  else
    npm install --no-audit --no-fund --loglevel=error 1>&2
  fi
fi

exec node replicate.js "$@"
