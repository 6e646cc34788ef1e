#!/bin/sh
# layering.sh: fails when oms_core, the pure core, gains a dependency on the network, the store or
# any component - by its link interface (CMake), its sources' includes, or the undefined symbols of
# the built archive (nm -u).
#   layering.sh CORE_DIR LINKS_FILE CORE_ARCHIVE OTHER_ARCHIVE...
# CORE_DIR holds the core's sources and public headers (common/); LINKS_FILE its CMake
# LINK_LIBRARIES, as the build wrote them; the other archives are every other project library.
set -u
core_dir=$1
links_file=$2
core=$3
shift 3
fails=0
fail() {
    echo "layering: $*" >&2
    fails=$((fails + 1))
}

# 1. The link interface: jansson and libm only.
for lib in $(tr ';' ' ' <"$links_file"); do
    case $lib in
    PkgConfig::JANSSON | m) ;;
    *) fail "oms_core links \"$lib\": it may link jansson (and libm) only" ;;
    esac
done

# 2. Includes: a core file includes system headers other than the network, SQL and crypto
# libraries', and headers of the core itself (the files of CORE_DIR); nothing else.
for f in "$core_dir"/*.c "$core_dir"/*.h; do
    grep -n '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r line; do
        n=${line%%:*}
        inc=$(printf '%s' "${line#*:}" | sed 's/^[^<"]*[<"]\([^>"]*\)[>"].*/\1/')
        case ${line#*:} in
        *'<'*)
            case $inc in
            curl/* | sqlite3.h | microhttpd.h | openssl/*)
                echo "layering: $f:$n: includes <$inc>: the core reaches no HTTP, SQL or crypto library" >&2
                echo x ;;
            esac ;;
        *)
            if [ ! -f "$core_dir/$inc" ]; then
                echo "layering: $f:$n: includes \"$inc\", which is not a header of the core ($core_dir)" >&2
                echo x
            fi ;;
        esac
    done
done >"${TMPDIR:-/tmp}/layering.$$"
bad_includes=$(wc -l <"${TMPDIR:-/tmp}/layering.$$")
rm -f "${TMPDIR:-/tmp}/layering.$$"
[ "$bad_includes" -eq 0 ] || fails=$((fails + bad_includes))

# 3. Symbols: what the archive needs and does not define itself must come from neither the other
# project libraries nor the network, SQL or crypto libraries.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -u "$core" 2>/dev/null | awk 'NF == 2 { print $2 }' | sort -u >"$tmp/undef"
nm --defined-only "$core" 2>/dev/null | awk 'NF == 3 && $2 ~ /[TDBRC]/ { print $3 }' | sort -u >"$tmp/own"
comm -23 "$tmp/undef" "$tmp/own" >"$tmp/needed"
[ -s "$tmp/undef" ] || fail "no undefined symbols read from $core (is nm there?)"
for a in "$@"; do
    nm --defined-only "$a" 2>/dev/null | awk 'NF == 3 && $2 ~ /[TDBRC]/ { print $3 }'
done | sort -u >"$tmp/others"
for s in $(comm -12 "$tmp/needed" "$tmp/others"); do
    fail "liboms_core.a needs \"$s\", which another project library defines"
done
for s in $(grep -E '^(curl_|sqlite3_|MHD_|EVP_|HMAC|SHA[0-9]|RAND_|CRYPTO_|OPENSSL_|ERR_)' "$tmp/needed"); do
    fail "liboms_core.a needs \"$s\" of the network, SQL or crypto libraries"
done

if [ "$fails" -ne 0 ]; then
    echo "layering: $fails violation(s)" >&2
    exit 1
fi
echo "layering: oms_core links $(tr ';' ' ' <"$links_file"), includes only itself and the system, needs $(wc -l <"$tmp/needed") outside symbols, none of the project's"
