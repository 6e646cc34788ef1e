#!/bin/sh
# The bundled suite with every part a separate process: oms-reference, mock-omnitron and
# mock-webhook started from their standalone binaries, checked through --target and the receivers'
# control listeners exactly as a vendor's own set-up would be. Usage: external_target.sh BIN_DIR
# SCENARIO_DIR REPORT_DIR
set -eu
bin=$1 scenarios=$2 reports=$3
tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; wait $p 2>/dev/null; done; rm -rf "$tmp"' EXIT

# start NAME ARGS...: runs bin/NAME, leaving its output in $tmp/NAME.
start() {
    name=$1
    shift
    "$bin/$name" "$@" >"$tmp/$name" 2>&1 &
    pids="$pids $!"
}

# url NAME WHAT: the URL NAME printed after "NAME: WHAT " (waits up to 10 s).
url() {
    i=0
    while [ $i -lt 100 ]; do
        u=$(sed -n "s/^$1: $2 //p" "$tmp/$1")
        [ -n "$u" ] && { echo "$u"; return 0; }
        sleep 0.1
        i=$((i + 1))
    done
    echo "$1 did not start:" >&2
    cat "$tmp/$1" >&2
    return 1
}

# One fixture token for the three programs and the harness; the API token is the default
# profile's (GET /_fixture/profile no longer shows it).
REFUND_FIXTURE_TOKEN=external-target-fixture-token
export REFUND_FIXTURE_TOKEN

# Three event loops: the concurrency bursts race across loops for the store lock (C-11), which
# the embedded reference's single loop never does.
start oms-reference --port 0 --io-threads 3
start mock-omnitron --port 0 --control-port 0
start mock-webhook --port 0 --control-port 0
oms=$(url oms-reference "listening on")
omnitron=$(url mock-omnitron "listening on")
omnitron_control=$(url mock-omnitron "control on")
webhook=$(url mock-webhook "listening on")
webhook_control=$(url mock-webhook "control on")

"$bin/refund-harness" run "$scenarios" --target "$oms" --token refund-harness-token \
    --omnitron "$omnitron" --omnitron-control "$omnitron_control" \
    --webhook "$webhook" --webhook-control "$webhook_control" \
    --quiet --no-color --report-dir "$reports"
