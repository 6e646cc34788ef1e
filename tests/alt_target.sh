#!/bin/sh
# The bundled suite against alt-oms (tests/alt_oms/), a second OMS written from the contract
# alone, with both receivers as separate processes, checked through --target as a vendor's own
# system would be. A correct implementation must pass: the run must end with exit status 0 and
# no failed scenario, and alt-oms must stop cleanly (exit 0) on SIGTERM. The scenarios that do
# fail are listed, each with the harness's first difference, in REPORT_DIR/alt-failures.txt.
# Usage: alt_target.sh BIN_DIR SCENARIO_DIR REPORT_DIR
set -eu
bin=$1 scenarios=$2 reports=$3
# One fixture token for the receivers and the harness (alt-oms does not ask for one).
REFUND_FIXTURE_TOKEN=alt-target-fixture-token
export REFUND_FIXTURE_TOKEN
tmp=$(mktemp -d)
pids=""
oms_pid=""
# (|| true: under set -e a failing kill or wait would end the trap and leave the rest running)
trap 'for p in $pids; do kill $p 2>/dev/null || true; wait $p 2>/dev/null || true; done; rm -rf "$tmp"' EXIT

# start NAME ARGS...: runs bin/NAME, leaving its output in $tmp/NAME.
start() {
    name=$1
    shift
    "$bin/$name" "$@" >"$tmp/$name" 2>&1 &
    pids="$pids $!"
    last_pid=$!
}

# url NAME WHAT: the URL NAME printed after "NAME: WHAT " (waits up to 10 s).
url() {
    i=0
    while [ $i -lt 100 ]; do
        u=$(sed -n "s/^$1: $2 //p" "$tmp/$1" 2>/dev/null || true)
        [ -n "$u" ] && { echo "$u"; return 0; }
        sleep 0.1
        i=$((i + 1))
    done
    echo "$1 did not start:" >&2
    cat "$tmp/$1" >&2
    return 1
}

start alt-oms --port 0
oms_pid=$last_pid
start mock-omnitron --port 0 --control-port 0
start mock-webhook --port 0 --control-port 0
oms=$(url alt-oms "listening on")
omnitron=$(url mock-omnitron "listening on")
omnitron_control=$(url mock-omnitron "control on")
webhook=$(url mock-webhook "listening on")
webhook_control=$(url mock-webhook "control on")

mkdir -p "$reports"
status=0
"$bin/refund-harness" run "$scenarios" --target "$oms" --token refund-harness-token \
    --omnitron "$omnitron" --omnitron-control "$omnitron_control" \
    --webhook "$webhook" --webhook-control "$webhook_control" \
    --quiet --no-color --report-dir "$reports" >"$tmp/harness" 2>&1 || status=$?
cat "$tmp/harness"
# The failing scenarios, each with its first difference, for whoever reads the report.
grep -E '^(FAIL|ERROR) |^       ' "$tmp/harness" >"$reports/alt-failures.txt" || true

# Passing is not enough: alt-oms differs from the reference on purpose, so the run must have
# noted those differences (the reference-only rules), and --strict-reference must turn them
# into failures - otherwise the suite no longer looks at what alt-oms does differently.
expect() {
    grep -q -- "$1" "$tmp/harness" || { echo "alt_target: the run's output lacks \"$1\"" >&2; status=1; }
}
expect " 0 failed, 0 error(s)"
expect "noted scenarios by rule:"
for rule in R-1 R-2 R-3 R-4; do expect "  $rule "; done
strict=0
"$bin/refund-harness" run "$scenarios" --target "$oms" --token refund-harness-token \
    --omnitron "$omnitron" --omnitron-control "$omnitron_control" \
    --webhook "$webhook" --webhook-control "$webhook_control" \
    --quiet --no-color --no-reports --strict-reference >"$tmp/strict" 2>&1 || strict=$?
if [ "$strict" -ne 1 ] || ! grep -q " 0 noted, [1-9][0-9]* failed" "$tmp/strict"; then
    echo "alt_target: with --strict-reference the notes must fail (exit 1), got $strict:" >&2
    tail -20 "$tmp/strict" >&2
    status=1
fi

# alt-oms must stop cleanly on SIGTERM: exit status 0, nothing left running.
kill -TERM "$oms_pid" 2>/dev/null || true
oms_status=0
wait "$oms_pid" || oms_status=$?
pids=$(echo "$pids" | sed "s/ $oms_pid\b//")
if [ "$oms_status" -ne 0 ]; then
    echo "alt-oms exited with status $oms_status on SIGTERM; its output:" >&2
    cat "$tmp/alt-oms" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "refund-harness against alt-oms exited with status $status;" \
        "failing scenarios: $reports/alt-failures.txt" >&2
fi
exit "$status"
