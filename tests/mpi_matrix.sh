#!/bin/bash
# tests/mpi_matrix.sh WSEMU SOURCE_DIR MPIEXEC - the determinism matrix:
# heat2d on 1, 2, 3, 4, 7 and 8 oversubscribed ranks, several grids
# (uneven shards, shards one PE row or column wide) and 1 or 2 threads per
# rank, and every other workload (stencil25 also with switches) on a few
# decompositions, must give the same digest and the same output bytes as
# 1 rank, the thermal maps (power.npy, temperature.npy, temperature.png)
# and the power windows (power_windows.csv, the hottest window's maps)
# included.
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
# a region that divides evenly by nothing: 13 x 7 PEs of 3 x 2 cells
JOB="jobs/heat2d.yaml --topology laptop --set region.width=13 --set region.height=7 --set params.tile_w=3 --set params.tile_h=2 --set params.steps=9"
fails=0 passes=0

run() {   # run NAME NP ARGS...
    local name=$1 np=$2; shift 2
    if ! $MPI -n "$np" "$WSEMU" run $JOB --out "$TMP/$name" --quiet "$@" 2>"$TMP/$name.err"; then
        echo "FAIL: $name: -n $np $*: $(head -c 300 "$TMP/$name.err")"
        fails=$((fails + 1))
        return 1
    fi
}
digest() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$1/report.json"; }

# matrix NAME JOBARGS: the reference on 1 rank, then every decomposition
# in the rest of the arguments ("NP [wsemu options]" separated by ";")
matrix() {
    local name=$1 args=$2 list=$3
    JOB=$args
    run "$name.ref" 1 --threads 1 || return
    want=$(digest "$TMP/$name.ref")
    want_u=$(cd "$TMP/$name.ref" && md5sum *.npy *.png $(ls *.csv 2>/dev/null))
    local IFS=';'
    for d in $list; do
        unset IFS
        # shellcheck disable=SC2086
        set -- $d
        local tag="$name.n$1${2:+.${*:2}}"
        tag=${tag// /}
        if run "$tag" "$@"; then
            got=$(digest "$TMP/$tag")
            got_u=$(cd "$TMP/$tag" && md5sum *.npy *.png $(ls *.csv 2>/dev/null))
            if [ "$got" != "$want" ] || [ "$got_u" != "$want_u" ]; then
                echo "FAIL: $tag: digest $got (want $want) or output bytes differ"
                fails=$((fails + 1))
            else
                echo "ok: $tag digest $got"
                passes=$((passes + 1))
            fi
        fi
        IFS=';'
    done
    unset IFS
}

matrix heat2d "$JOB" "1 --threads 2;2;2 --grid 2x1;3 --grid 3x1;3 --grid 1x3;4 --grid 2x2;4 --grid 1x4;4 --grid 4x1;4 --grid 2x2 --threads 2;8 --grid 8x1 --threads 2;7 --grid 1x7"
matrix cg "jobs/cg.yaml --set region.width=11 --set region.height=6 --set params.nz=5 --set params.iters=6" "2 --grid 2x1;3 --grid 1x3;4 --grid 2x2 --threads 2"
for w in life bandwidth allreduce gemv stencil7 stencil25; do
    [ -f "jobs/$w.yaml" ] && "$WSEMU" programs | grep -q "^$w:" || continue
    matrix "$w" "jobs/$w.yaml --set region.width=11 --set region.height=6" "2 --grid 2x1;3 --grid 1x3;4 --grid 2x2 --threads 2"
done
# the corner-rooted allreduce (jobs/allreduce.yaml above is centre-rooted)
matrix allreduce_chain "jobs/allreduce_chain.yaml --set region.width=11 --set region.height=6" "2 --grid 2x1;3 --grid 1x3;4 --grid 2x2 --threads 2"
# stencil25 with router switches: control wavelets cross shard edges
matrix stencil25_switch "jobs/stencil25_switch.yaml --set region.width=11 --set region.height=6" "2 --grid 2x1;3 --grid 1x3;4 --grid 2x2 --threads 2"
# and on wse3's resources (6 output queues, local task ids 8..26; the job verifies bitwise)
matrix stencil25_switch_wse3 "jobs/stencil25_switch.yaml --topology wse3 --set region.width=16 --set region.height=12" "2 --grid 2x1;3 --grid 1x3"
# the hot-spot job: its power and temperature maps and picture (compared
# above with every output) from 2 to 4 ranks, cells cut by shard edges
matrix hotspot "jobs/hotspot.yaml" "2 --grid 2x1;3 --grid 1x3;4 --grid 2x2"
# power windows, the transient and throttling (power_windows.csv and the
# hottest window's maps too): with the rule and without it
matrix hotspot_throttle "jobs/hotspot_throttle.yaml" "2 --grid 2x1;3 --grid 3x1;4 --grid 2x2 --threads 2"
matrix hotspot_windows "jobs/hotspot_throttle.yaml --set throttle=false" "3 --grid 1x3;4 --grid 2x2"
# rowscale: range filters, control tasks and teardowns with shard edges across every row
matrix rowscale "jobs/rowscale.yaml --set region.width=11 --set region.height=6 --set params.n=37" "2 --grid 2x1;3 --grid 1x3;4 --grid 2x2 --threads 2;4 --grid 4x1;3 --grid 3x1 --threads 2"
# a wrong rank count ends every rank with one clear message and status 2
JOB="jobs/heat2d.yaml --topology laptop"
$MPI -n 3 "$WSEMU" run $JOB --grid 2x2 >"$TMP/bad.out" 2>"$TMP/bad.err"
rc=$?
if [ $rc -ne 2 ] || ! grep -q -- '--grid 2x2 needs 4 ranks, but 3 are running' "$TMP/bad.err" ||
   [ "$(grep -c 'needs 4 ranks' "$TMP/bad.err")" -ne 1 ]; then
    echo "FAIL: wrong rank count: status $rc, stderr: $(cat "$TMP/bad.err")"
    fails=$((fails + 1))
else
    passes=$((passes + 1))
fi
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
