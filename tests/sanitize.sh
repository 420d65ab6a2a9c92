#!/bin/bash
# tests/sanitize.sh SOURCE_DIR BUILD_DIR - build the whole project with
# AddressSanitizer + UndefinedBehaviorSanitizer in BUILD_DIR and run its
# unit suites and the 4-rank MPI transport test there.  The launcher
# scripts (cli, mpi_matrix, yield_jobs, mpi_fail, fidelity, two_hosts, slurm) exercise the same library
# code through many short MPI processes, which ASan makes minutes long;
# they run in the normal build.
set -euo pipefail
SRC=$1
OUT=$2
cmake -S "$SRC" -B "$OUT" -DWSE_SANITIZE=ON -DWSE_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$OUT" -j2 >/dev/null
ctest --test-dir "$OUT" --output-on-failure -j2 -E '^(cli|mpi_matrix|yield_jobs|mpi_fail|fidelity|two_hosts|slurm)$'
