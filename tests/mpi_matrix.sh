#!/bin/bash
# tests/mpi_matrix.sh WSEMU SOURCE_DIR MPIEXEC - the determinism matrix:
# heat2d on 1, 2, 3, 4 and 8 oversubscribed ranks, several grids (uneven
# shards, shards one PE row or column wide) and 1 or 2 threads per rank,
# must give the same digest and the same output bytes as 1 rank.
set -u
WSEMU=$1
SRC=$2
MPIEXEC=$3
cd "$SRC" || exit 1
TMP=$(mktemp -d)
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

run ref 1 || { echo "0 passed, 1 failed"; exit 1; }
want=$(digest "$TMP/ref")
want_u=$(md5sum <"$TMP/ref/u.npy")
check() {   # check NAME NP ARGS...
    local name=$1
    run "$@" || return
    local got got_u
    got=$(digest "$TMP/$name")
    got_u=$(md5sum <"$TMP/$name/u.npy")
    if [ "$got" != "$want" ] || [ "$got_u" != "$want_u" ]; then
        echo "FAIL: $name: digest $got (want $want), u.npy $got_u (want $want_u)"
        fails=$((fails + 1))
    else
        echo "ok: $name digest $got"
        passes=$((passes + 1))
    fi
}
check t2 1 --threads 2
check n2 2
check n2_2x1 2 --grid 2x1
check n3_3x1 3 --grid 3x1
check n3_1x3 3 --grid 1x3
check n4_2x2 4 --grid 2x2
check n4_1x4 4 --grid 1x4
check n4_4x1 4 --grid 4x1
check n4_t2 4 --grid 2x2 --threads 2
check n8_1x7t 8 --grid 8x1 --threads 2
check n7_rows 7 --grid 1x7
# a wrong rank count ends every rank with one clear message and status 2
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
