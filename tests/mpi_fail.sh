#!/bin/bash
# tests/mpi_fail.sh WSEMU SOURCE_DIR MPIEXEC USERLIB - a failure on one rank
# only, at each phase (loading the program library, loading the job,
# setup, the run, writing outputs), must end every rank within seconds
# with one error message and a non-zero exit status; before the fix each
# of these hung until killed.  Ranks are given different command lines
# with mpirun's MPMD form (A : B).
set -u
WSEMU=$1
SRC=$2
MPIEXEC=$3
USERLIB=$4
cd "$SRC" || exit 1
TMP=$(mktemp -d)
# Open MPI's session directory in this script's own folder: tests running
# at once otherwise share /tmp/ompi.HOST.UID, and one that ends removes it
# under another that is starting ("unable to create the desired directory")
export OMPI_MCA_orte_tmpdir_base="$TMP"
trap 'rm -rf "$TMP"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
MPI="$MPIEXEC --oversubscribe --bind-to none"
LIMIT=60        # seconds: a hang, not a slow machine
fails=0 passes=0

printf 'topology: 8x8\nprogram: user_double\nparams: {factor: 3.0}\ninputs:\n  v0: {generate: random, seed: 3, lo: -1, hi: 1}\noutputs: [v]\nverify: true\n' >"$TMP/user.yaml"
U="run $TMP/user.yaml --program-lib $USERLIB --grid 2x1 --quiet"

# case NAME WANT_STATUS PATTERN MPI_ARGS...: ends in time, with WANT_STATUS,
# and stderr holds PATTERN on exactly one line
case_() {
    local name=$1 want=$2 pat=$3; shift 3
    timeout -k 5 $LIMIT $MPI "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    local got=$?
    local n
    n=$(grep -c -- "$pat" "$TMP/$name.err")
    if [ $got -eq 124 ] || [ $got -eq 137 ]; then
        echo "FAIL: $name: still running after ${LIMIT}s"
    elif [ $got -ne "$want" ]; then
        echo "FAIL: $name: exit $got, want $want: $(head -c 400 "$TMP/$name.err")"
    elif [ -n "$pat" ] && [ "$n" -ne 1 ]; then
        echo "FAIL: $name: '$pat' on $n lines of stderr: $(head -c 400 "$TMP/$name.err")"
    else
        passes=$((passes + 1))
        return
    fi
    fails=$((fails + 1))
}

# the control: the same job on two ranks works
case_ control 0 "" -n 2 "$WSEMU" $U
# loading: rank 1 cannot load its program library
case_ library 2 "cannot load program library" \
    -n 1 "$WSEMU" $U : -n 1 "$WSEMU" run "$TMP/user.yaml" --program-lib "$TMP/missing.so" --grid 2x1 --quiet
# loading: rank 1's job file does not exist
case_ job 2 "missing.yaml" \
    -n 1 "$WSEMU" $U : -n 1 "$WSEMU" run "$TMP/missing.yaml" --program-lib "$USERLIB" --grid 2x1 --quiet
# setup: the PEs of column 7 (rank 1's shard) fail in setup
case_ setup 1 "failing in setup on purpose" -n 2 "$WSEMU" $U --set params.fail_x=7 --set params.fail_setup=true
# the run: the PEs of column 7 fail in their first task
case_ run 1 "failing on purpose (fail_x = 7)" -n 2 "$WSEMU" $U --set params.fail_x=7
# outputs: --out names a regular file, which only rank 0 checks (before
# the run, so it is bad input)
: >"$TMP/afile"
case_ output 2 "cannot create output directory" -n 2 "$WSEMU" $U --out "$TMP/afile"
# relaxed mode with a window whose halo messages would pass MPI's int count
case_ window 2 "over MPI's limit" -n 2 "$WSEMU" run jobs/heat2d.yaml --topology 8x8 --grid 2x1 --quiet \
    --set mode=relaxed --set window_cycles=1000000000

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
