#!/bin/bash
# tests/yield.sh WSEMU SOURCE_DIR MPIEXEC - defective wafers end to end:
# every job in jobs/defects/ gives the same output arrays as its workload
# on a perfect wafer (jobs/NAME.yaml), passes its verify, and gives the
# same digest, outputs and wafer.png on 1 and 3 oversubscribed ranks; a
# wafer with too many defects is refused with the count and the die, and
# on_unrepairable: shrink runs on the documented smaller fabric; a bad
# defect map names file:line:column.
set -u
WSEMU=$1
SRC=$2
MPIEXEC=$3
cd "$SRC" || exit 1
TMP=$(mktemp -d)
# Open MPI's session directory in this script's own folder: tests running
# at once otherwise share /tmp/ompi.HOST.UID, and one that ends removes it
# under another that is starting ("unable to create the desired directory")
export OMPI_MCA_orte_tmpdir_base="$TMP"
trap 'rm -rf "$TMP"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
MPI="$MPIEXEC --oversubscribe --bind-to none"
fails=0 passes=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { passes=$((passes + 1)); }
field() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$1/report.json" "$2"; }

for job in jobs/defects/*.yaml; do
    name=$(basename "$job" .yaml)
    base=jobs/$name.yaml
    if ! "$WSEMU" run "$base" --out "$TMP/$name.perfect" --quiet 2>"$TMP/err" ||
       ! "$WSEMU" run "$job" --out "$TMP/$name.one" --quiet 2>"$TMP/err" ||
       ! $MPI -n 3 "$WSEMU" run "$job" --out "$TMP/$name.three" --quiet 2>"$TMP/err"; then
        fail "$name: a run failed: $(head -c 300 "$TMP/err")"
        continue
    fi
    ok=1
    for f in "$TMP/$name.perfect"/*.npy; do
        a=$(basename "$f")
        # timings, not results: power, and bandwidth's arrival and send
        # cycles (its program marks them unverified)
        case $name:$a in *:power.npy|*:temperature.npy|bandwidth:arrival.npy|bandwidth:sent.npy) continue ;; esac
        cmp -s "$f" "$TMP/$name.one/$a" || { fail "$name: $a differs from the perfect wafer's"; ok=0; }
    done
    for f in "$TMP/$name.one"/*.npy "$TMP/$name.one"/*.png; do
        cmp -s "$f" "$TMP/$name.three/$(basename "$f")" || { fail "$name: $(basename "$f") differs on 3 ranks"; ok=0; }
    done
    [ "$(field "$TMP/$name.one" digest)" = "$(field "$TMP/$name.three" digest)" ] || { fail "$name: digest differs on 3 ranks"; ok=0; }
    [ "$(field "$TMP/$name.one" verify.passed)" = True ] || { fail "$name: verify"; ok=0; }
    [ "$(field "$TMP/$name.one" wafer.stretched_links)" -gt 0 ] || { fail "$name: no stretched links"; ok=0; }
    [ "$(field "$TMP/$name.one" stretched_hops)" -gt 0 ] || { fail "$name: no traffic over stretched links"; ok=0; }
    [ "$(field "$TMP/$name.one" cycles)" -ge "$(field "$TMP/$name.perfect" cycles)" ] || { fail "$name: faster than a perfect wafer"; ok=0; }
    [ $ok = 1 ] && pass
done

# too many defects: two in column 3 of die (0,0), which has one spare row
printf 'pe 3 2\npe 3 9   # die row 0 is physical rows 0-16\n' > "$TMP/two.txt"
cat > "$TMP/two.yaml" <<JOB
topology: laptop
program: heat2d
params: {tile_w: 4, tile_h: 4, steps: 5, alpha: 0.2}
inputs:
  u0: {generate: random, seed: 7}
outputs: [u]
verify: true
defects:
  file: two.txt
JOB
"$WSEMU" check "$TMP/two.yaml" >"$TMP/out" 2>"$TMP/err"
rc=$?
want="$TMP/two.yaml:9:3: error: the wafer cannot be repaired: 2 defective PEs; die (0,0) column 3 has 2 defects for 1 spare row (column_shift; defects.on_unrepairable: shrink forms a smaller fabric)"
if [ $rc = 2 ] && [ "$(cat "$TMP/err")" = "$want" ] && [ ! -s "$TMP/out" ]; then pass; else
    fail "unrepairable: exit $rc, got '$(cat "$TMP/err")'"; fi
# shrink: die row 0 gives 15 rows, so the fabric (and the default region) is 64 x 63
if "$WSEMU" run "$TMP/two.yaml" --set defects.on_unrepairable=shrink --out "$TMP/shrunk" --quiet 2>"$TMP/err" &&
   [ "$(field "$TMP/shrunk" region.height)" = 63 ] && [ "$(field "$TMP/shrunk" wafer.formed)" = False ] &&
   [ "$(field "$TMP/shrunk" verify.passed)" = True ]; then pass; else
    fail "shrink: $(head -c 300 "$TMP/err")"; fi
"$WSEMU" check "$TMP/two.yaml" --set defects.on_unrepairable=shrink >"$TMP/out" 2>&1
grep -q "logical fabric 64x63 formed SHRUNK" "$TMP/out" && grep -q "region 64x63" "$TMP/out" && pass ||
    fail "check does not show the shrunk fabric: $(cat "$TMP/out")"
# a bad line in the map
printf 'pe 1 1\npe 1 2 3\n' > "$TMP/two.txt"
"$WSEMU" check "$TMP/two.yaml" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc = 2 ] && [ "$(cat "$TMP/err")" = "$TMP/two.txt:2:1: error: expected 'pe X Y'" ] && pass ||
    fail "bad map line: exit $rc, '$(cat "$TMP/err")'"
# a topology with no physical fabric
sed '/^yield:/,$d' topologies/laptop.yaml > "$TMP/plain.yaml"
"$WSEMU" check "$TMP/two.yaml" --topology "$TMP/plain.yaml" 2>"$TMP/err"
rc=$?
[ $rc = 2 ] && grep -q "topology 'laptop' describes no physical fabric" "$TMP/err" && pass ||
    fail "no yield section: exit $rc, '$(cat "$TMP/err")'"

echo "$passes passed, $fails failed"
[ $fails = 0 ]
