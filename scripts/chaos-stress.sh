#!/usr/bin/env bash
# Runs chaos scenarios (test/e2e/chaos.test.ts) in several copies at once,
# round after round, and counts the runs that failed: a race that shows
# once in dozens of runs, or only when the machine is loaded, shows here.
#
#   scripts/chaos-stress.sh [-p copies] [-r rounds] [-t name-filter]
#
# Defaults: 4 copies, 5 rounds, "store flapping". Set RSS_FAULTS_LONG=1 for
# the long variants. Needs the built CLI (npm run build). Each run's output
# is kept in the folder it prints.
set -euo pipefail
copies=4 rounds=5 filter="store flapping"
while getopts "p:r:t:" opt; do
  case $opt in
    p) copies=$OPTARG ;;
    r) rounds=$OPTARG ;;
    t) filter=$OPTARG ;;
    *) echo "usage: $0 [-p copies] [-r rounds] [-t name-filter]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
[ -f dist/rss.cjs ] || { echo "dist/rss.cjs is missing: run npm run build first" >&2; exit 2; }
out=$(mktemp -d -t rss-chaos-stress-XXXX)
for r in $(seq 1 "$rounds"); do
  for p in $(seq 1 "$copies"); do
    npx vitest run test/e2e/chaos.test.ts -t "$filter" > "$out/round$r-copy$p.log" 2>&1 &
  done
  wait || true
done
# A run failed when a test failed, or when it never got to say that one passed (it crashed or hung).
failed=$( (grep -lE "[0-9]+ failed" "$out"/*.log; grep -L " passed" "$out"/*.log) | sort -u | wc -l)
total=$(ls "$out"/*.log | wc -l)
echo "$((total - failed)) passed, $failed failed (logs in $out)"
[ "$failed" -eq 0 ]
