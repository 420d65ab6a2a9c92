#!/bin/bash
# tests/cli.sh WSEMU SOURCE_DIR - the command-line contract, end to end:
# exit statuses, the golden one-line error for every bad input in the
# corpus, --set/--out/--topology, output files and the report.
set -u
WSEMU=$1
SRC=$2
USERLIB=${3:-}
OLDLIB=${4:-}
PY=/usr/bin/python3
cd "$SRC" || exit 1
TMP=$(mktemp -d)
# Open MPI's session directory in this script's own folder: tests running
# at once otherwise share /tmp/ompi.HOST.UID, and one that ends removes it
# under another that is starting ("unable to create the desired directory")
export OMPI_MCA_orte_tmpdir_base="$TMP"
trap 'rm -rf "$TMP"' EXIT
fails=0
passes=0

ok()   { passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect STATUS CMD... : run, check the exit status, keep stdout/stderr
expect() {
    local want=$1; shift
    "$@" >"$TMP/out" 2>"$TMP/err"
    local got=$?
    if [ "$got" -ne "$want" ]; then
        fail "'$*' exited $got, expected $want; stderr: $(head -c 400 "$TMP/err")"
        return 1
    fi
    ok
}

# --- help, version, usage errors
expect 0 "$WSEMU" --version && grep -q '^wsemu [0-9]' "$TMP/out" || fail "--version output"
expect 0 "$WSEMU" --help && grep -q 'usage: wsemu run JOB.yaml' "$TMP/out" || fail "--help output"
expect 2 "$WSEMU"
expect 2 "$WSEMU" frobnicate
expect 2 "$WSEMU" run jobs/heat2d.yaml --bogus
expect 2 "$WSEMU" run
expect 0 "$WSEMU" programs && grep -q '^heat2d:' "$TMP/out" || fail "programs listing"
# every command has --help; options take --opt=value; numbers are checked
for c in run check programs; do
    expect 0 "$WSEMU" $c --help && grep -q "^wsemu $c" "$TMP/out" && grep -q -- '--topology NAME|FILE' "$TMP/out" ||
        fail "$c --help output"
done
expect 0 "$WSEMU" check jobs/heat2d.yaml --set=params.steps=3 --topology=8x8 --threads=1 &&
    grep -q 'OK (heat2d on 8x8' "$TMP/out" || fail "--opt=value forms: $(cat "$TMP/out" "$TMP/err")"
expect 2 "$WSEMU" run jobs/heat2d.yaml --threads 4294967297 && grep -q -- "--threads wants a number 1..1024, not '4294967297'" "$TMP/err" ||
    fail "--threads overflow: $(cat "$TMP/err")"
expect 2 "$WSEMU" run jobs/heat2d.yaml --grid 4294967297x1 && grep -q -- "--grid wants PxQ" "$TMP/err" || fail "--grid overflow"
expect 2 "$WSEMU" run jobs/heat2d.yaml --json=yes && grep -q "option '--json=yes' takes no value" "$TMP/err" || fail "--json=value"
expect 2 "$WSEMU" run jobs/heat2d.yaml --out && grep -q "option --out needs a value" "$TMP/err" || fail "--out without value"
# progress: periodic plain lines (stderr is not a terminal here), and
# what a large setup is doing
expect 0 "$WSEMU" run jobs/cg.yaml --progress 0.02 &&
    grep -qE '^wsemu: cycle [0-9]+ \([0-9.e-]+ s of wafer time\), [0-9.e+]+ cycles/s, [0-9]+ s elapsed$' "$TMP/err" ||
    fail "progress lines: $(head -3 "$TMP/err")"
expect 2 "$WSEMU" run jobs/heat2d.yaml --progress=0 && grep -q -- "--progress wants seconds" "$TMP/err" || fail "--progress 0"
expect 0 "$WSEMU" check jobs/heat2d.yaml --topology wse2 --set region.width=256 --set region.height=256 &&
    grep -q '^wsemu: setting up the PEs (65536 PEs)$' "$TMP/err" || fail "setup progress: $(cat "$TMP/err")"
expect 0 "$WSEMU" check jobs/heat2d.yaml --topology wse2 --set region.width=256 --set region.height=256 --quiet &&
    [ ! -s "$TMP/err" ] || fail "--quiet setup progress"

# --- the golden corpus: every bad job and topology gives its exact line
for f in jobs/invalid/*.yaml; do
    expect 2 "$WSEMU" check "$f" || continue
    if ! diff -q <(cat "$TMP/err") "${f%.yaml}.err" >/dev/null; then
        fail "$f: stderr differs from ${f%.yaml}.err: $(cat "$TMP/err")"
    fi
done
for f in topologies/invalid/*.yaml; do
    expect 2 "$WSEMU" check jobs/heat2d.yaml --topology "$f" || continue
    if ! diff -q <(cat "$TMP/err") "${f%.yaml}.err" >/dev/null; then
        fail "$f: stderr differs from ${f%.yaml}.err: $(cat "$TMP/err")"
    fi
done
[ "$(ls jobs/invalid/*.yaml topologies/invalid/*.yaml | wc -l)" -ge 25 ] || fail "corpus has fewer than 25 cases"

# --- semantic errors found before the first cycle
expect 2 "$WSEMU" check jobs/heat2d.yaml --set params.tile_w=256 --set params.tile_h=256 &&
    grep -qE "PE \(0,0\): program 'heat2d' needs [0-9]+ bytes of SRAM .* but a PE has 49152" "$TMP/err" || fail "SRAM over budget message: $(cat "$TMP/err")"
expect 2 "$WSEMU" check jobs/heat2d.yaml --set program=nosuch &&
    grep -q "unknown program 'nosuch'" "$TMP/err" || fail "unknown program message"
expect 2 "$WSEMU" check jobs/heat2d.yaml --set params.steps=abc &&
    grep -q '^--set params.steps: error:' "$TMP/err" || fail "bad --set message: $(cat "$TMP/err")"
expect 2 "$WSEMU" check jobs/heat2d.yaml --set params.nosuch=1 &&
    grep -q "nosuch" "$TMP/err" || fail "unknown param message"
expect 2 "$WSEMU" check jobs/heat2d.yaml --set region.width=65 &&
    grep -q "does not fit" "$TMP/err" || fail "region misfit message: $(cat "$TMP/err")"
expect 2 "$WSEMU" check jobs/heat2d.yaml --set mode=relaxed &&
    grep -q "mode 'relaxed' needs window_cycles greater than the hop latency (1), got 0" "$TMP/err" || fail "relaxed window message: $(cat "$TMP/err")"
expect 2 "$WSEMU" run jobs/heat2d.yaml --grid 0x1 && grep -q -- "--grid wants PxQ" "$TMP/err" || fail "bad --grid message"
expect 2 "$WSEMU" run jobs/heat2d.yaml --threads x && grep -q -- "--threads wants a number" "$TMP/err" || fail "bad --threads message"
expect 0 "$WSEMU" check jobs/heat2d.yaml && grep -q 'OK' "$TMP/out" || fail "check OK output"
# --json prints JSON on stdout, for check too, and even with --quiet
expect 0 "$WSEMU" check jobs/heat2d.yaml --json &&
    /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"] is True and r["region"]["pes"] == 4096 and r["program"] == "heat2d"' "$TMP/out" ||
    fail "check --json: $(cat "$TMP/out")"
expect 0 "$WSEMU" run jobs/heat2d.yaml --topology 8x8 --set params.steps=2 --json --quiet &&
    /usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["cycles"] > 0 and len(r["digest"]) == 16' "$TMP/out" ||
    fail "run --json --quiet: $(cat "$TMP/out")"

# --- a run with --out: outputs, report, digest
expect 0 "$WSEMU" run jobs/heat2d.yaml --topology 8x8 --set params.steps=5 --out "$TMP/o1" || true
grep -q 'verify           PASSED' "$TMP/out" || fail "verify not PASSED: $(cat "$TMP/out")"
grep -q "illustrative: the topology's energy figures are not calibrated" "$TMP/out" || fail "energy not labelled illustrative"
d1=$(awk '/digest/ {print $2}' "$TMP/out")
[ -f "$TMP/o1/u.npy" ] && [ -f "$TMP/o1/report.json" ] || fail "output files missing"
ls "$TMP/o1" | grep -q tmp && fail "temporary files left in output directory"
if [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null; then
    "$PY" - "$TMP/o1" "$d1" <<'EOF' || fail "output check in python"
import json, sys, numpy as np
d, digest = sys.argv[1], sys.argv[2]
u = np.load(d + "/u.npy")
assert u.shape == (64, 64) and u.dtype == np.float32, (u.shape, u.dtype)
r = json.load(open(d + "/report.json"))
assert r["digest"] == digest, (r["digest"], digest)
assert r["verify"]["passed"] is True and r["verify"]["max_abs_error"] == 0.0
assert r["region"]["pes"] == 64 and r["cycles"] > 0 and r["wavelet_hops"] > 0
assert r["not_modeled"] == "host_io"
assert r["energy_j"]["calibrated"] is False
assert 0 < r["link_utilisation"]["mean"] <= r["link_utilisation"]["max"] <= 1
assert r["sram"]["high_water_bytes"] <= r["sram"]["budget_bytes"]
assert u.std() > 0
EOF
fi
# the same run again: the same digest; JSON on stdout parses
expect 0 "$WSEMU" run jobs/heat2d.yaml --topology 8x8 --set params.steps=5 --json
if [ -x "$PY" ]; then
    d2=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["digest"])' <"$TMP/out")
    [ "$d1" = "$d2" ] || fail "digest not reproducible: $d1 vs $d2"
fi

# --- a failed run leaves no valid-looking output
# a failed run into a folder holding an earlier run's results removes them
mkdir -p "$TMP/o2" && cp "$TMP/o1/u.npy" "$TMP/o1/report.json" "$TMP/o2/" && : >"$TMP/o2/mine.txt"
expect 1 "$WSEMU" run jobs/heat2d.yaml --topology 8x8 --set max_cycles=50 --out "$TMP/o2" &&
    grep -q 'cycle limit' "$TMP/err" || fail "cycle limit message: $(cat "$TMP/err")"
[ -e "$TMP/o2/u.npy" ] || [ -e "$TMP/o2/report.json" ] && fail "failed run left output files"
[ -e "$TMP/o2/mine.txt" ] || fail "a file the run does not write was removed"
# --out naming a file is bad input, found before the run
: >"$TMP/afile"
expect 2 "$WSEMU" run jobs/heat2d.yaml --topology 8x8 --out "$TMP/afile" &&
    grep -q "afile: error: cannot create output directory" "$TMP/err" && [ ! -s "$TMP/out" ] ||
    fail "--out a file: $(cat "$TMP/err")"

# --- inputs from a file round-trip through --out
if [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null; then
    "$PY" -c "import numpy as np; np.save('$TMP/u0.npy', np.load('$TMP/o1/u.npy'))"
    cat >"$TMP/job.yaml" <<EOF
topology: 8x8
program: heat2d
params: {tile_w: 8, tile_h: 8, steps: 3}
inputs:
  u0: {file: u0.npy}
outputs: [u]
verify: true
EOF
    expect 0 "$WSEMU" run "$TMP/job.yaml" --quiet
    [ -s "$TMP/out" ] && fail "--quiet printed something"
    "$PY" -c "import numpy as np; np.save('$TMP/u0.npy', np.zeros((3,3), np.float32))"
    expect 2 "$WSEMU" check "$TMP/job.yaml" && grep -q 'shape' "$TMP/err" || fail "wrong input shape message: $(cat "$TMP/err")"
    # trailing bytes after the data: bad input before the run, verify or not
    cp "$TMP/o1/u.npy" "$TMP/u0.npy" && printf 'xx' >>"$TMP/u0.npy"
    for v in true false; do
        expect 2 "$WSEMU" run "$TMP/job.yaml" --set verify=$v --out "$TMP/o4" &&
            grep -q 'u0.npy: error: malformed .npy file: bytes follow the 16384 bytes of data' "$TMP/err" &&
            [ ! -e "$TMP/o4/u.npy" ] || fail "trailing input bytes (verify $v): $(cat "$TMP/err")"
    done
fi

# --- a program built outside wsemu, loaded at run time
if [ -n "$USERLIB" ]; then
    printf 'topology: 8x8\nprogram: user_double\nparams: {factor: 3.0}\ninputs:\n  v0: {generate: random, seed: 3, lo: -1, hi: 1}\noutputs: [v]\nverify: true\n' >"$TMP/user.yaml"
    expect 0 "$WSEMU" run "$TMP/user.yaml" --program-lib "$USERLIB" --out "$TMP/o3" &&
        grep -q 'verify           PASSED' "$TMP/out" || fail "user program run: $(cat "$TMP/out" "$TMP/err")"
    expect 0 "$WSEMU" programs --program-lib "$USERLIB" && grep -q '^user_double:' "$TMP/out" || fail "user program listing"
    expect 2 "$WSEMU" run "$TMP/user.yaml" && grep -q "unknown program 'user_double'" "$TMP/err" || fail "user program without its library"
    expect 2 "$WSEMU" run "$TMP/user.yaml" --program-lib "$TMP/nothing.so" &&
        grep -q "cannot load program library" "$TMP/err" || fail "missing library message: $(cat "$TMP/err")"
    if [ -n "$OLDLIB" ]; then
        expect 2 "$WSEMU" run "$TMP/user.yaml" --program-lib "$OLDLIB" &&
            grep -q "error: program 0 was built against PE API version 1, but this wsemu has version [0-9]*: rebuild it" "$TMP/err" &&
            [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "old API version message: $(cat "$TMP/err")"
    fi
    if [ -x "$PY" ] && "$PY" -c 'import numpy' 2>/dev/null; then
        "$PY" -c "import numpy as np; v=np.load('$TMP/o3/v.npy'); assert v.shape == (8, 8) and v.dtype == np.float32 and v.std() > 0" ||
            fail "user program output"
    fi
fi

# --- every shipped job fits the hardware resources of wse2 and wse3 (queues,
# microthreads, task ids, host I/O's colors) and verifies there, on 16 x 16
for t in wse2 wse3; do
    for f in jobs/*.yaml; do
        expect 0 "$WSEMU" run "$f" --topology "$t" --set region.width=16 --set region.height=16 --quiet
    done
done
# and with the hardware's queue rule (no implicit queues), bit for bit as
# on wse3; stencil25 only where no PE receives on more colors than its 6
# input queues (switches up to 8 x 8, multicast 4 x 4), and beyond it
# fails at load saying so
for f in jobs/*.yaml; do
    case "$f" in
    jobs/stencil25*.yaml)
        expect 1 "$WSEMU" run "$f" --topology wse3_strict --set region.width=16 --set region.height=16 --quiet &&
            grep -qE "program 'stencil25': broadcast [01] receives on [78] colors at this PE, and with the wse3 queue rule each needs an input queue of its own for the whole run: the topology leaves 6" "$TMP/err" ||
            fail "$f on wse3_strict 16x16: $(head -c 400 "$TMP/err")"
        n=$(grep -q 'broadcast: *1' "$f" && echo 8 || echo 4)
        sz="--set region.width=$n --set region.height=$n";;
    *) sz="--set region.width=16 --set region.height=16";;
    esac
    # the report's top-level digest and cycles
    expect 0 "$WSEMU" run "$f" --topology wse3 $sz --json && a=$(awk '/^  "(digest|cycles)"/ {printf "%s", $2}' "$TMP/out") &&
        expect 0 "$WSEMU" run "$f" --topology wse3_strict $sz --json && b=$(awk '/^  "(digest|cycles)"/ {printf "%s", $2}' "$TMP/out") &&
        { [ -n "$a" ] && [ "$a" = "$b" ] || fail "$f: wse3_strict digest and cycles '$b', wse3 '$a'"; }
done

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
