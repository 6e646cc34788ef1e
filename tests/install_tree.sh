#!/bin/sh
# install_tree.sh: `cmake --install` into a temporary prefix, then the installed refund-harness runs
# the bundled suite from another folder, finding its scenarios, schemas and the oms-reference it
# starts for crash steps beside itself - never the source tree.
#   install_tree.sh BUILD_DIR
set -eu
build=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/install_tree.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"

fail() {
    echo "install_tree: $*" >&2
    exit 1
}
for f in bin/refund-harness bin/oms-reference bin/mock-omnitron bin/mock-webhook \
    share/refund-harness/spec/scenario.schema.json share/refund-harness/spec/rules.json \
    share/refund-harness/profiles/default.json share/man/man1/refund-harness.1 \
    share/doc/refund_harness/vendor-guide.md; do
    [ -e "$prefix/$f" ] || fail "the install has no $f"
done
[ -d "$prefix/share/refund-harness/scenarios/crash" ] || fail "the install has no bundled scenarios"

# From a folder that is neither the source nor the build tree.
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
"$prefix/bin/refund-harness" run --quiet --no-color --report-dir "$tmp/reports" >"$tmp/run.out" 2>&1 ||
    { cat "$tmp/run.out" >&2; fail "the installed refund-harness run failed"; }
results=$tmp/reports/results.json
[ -f "$results" ] || fail "no results.json"
# Every scenario came from the installed share folder, and none failed.
python3 - "$results" "$prefix/share/refund-harness/scenarios/" <<'PY' || fail "results.json: see above"
import json, sys
doc = json.load(open(sys.argv[1]))
scenarios = doc["scenarios"]
outside = [s["file"] for s in scenarios if not s["file"].startswith(sys.argv[2])]
bad = [s["id"] for s in scenarios if s["outcome"] != "passed"]
if not scenarios or outside or bad:
    print("install_tree: %d scenarios, outside the install: %s, not passed: %s"
          % (len(scenarios), outside[:3], bad[:5]), file=sys.stderr)
    sys.exit(1)
print("install_tree: %d scenarios passed, all from %s" % (len(scenarios), sys.argv[2]))
PY
tail -1 "$tmp/run.out"
echo "install_tree: installed run passed from $tmp/elsewhere"
