#!/bin/sh
# The bundled suite against oms-reference started as a separate process (the standalone binary),
# checked through --target exactly as a vendor's system would be. Usage: external_target.sh BIN_DIR
# SCENARIO_DIR REPORT_DIR
set -eu
bin=$1 scenarios=$2 reports=$3
out=$(mktemp)
"$bin/oms-reference" --port 0 >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT
url=""
i=0
while [ -z "$url" ] && [ $i -lt 100 ]; do
    url=$(sed -n 's/^oms-reference: listening on //p' "$out")
    [ -n "$url" ] || { sleep 0.1; i=$((i + 1)); }
done
[ -n "$url" ] || { echo "oms-reference did not start:"; cat "$out"; exit 1; }
"$bin/refund-harness" run "$scenarios" --target "$url" --quiet --no-color --report-dir "$reports"
