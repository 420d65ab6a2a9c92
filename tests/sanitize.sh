#!/bin/bash
# tests/sanitize.sh SOURCE_DIR BUILD_DIR - build the whole project with
# AddressSanitizer + UndefinedBehaviorSanitizer in BUILD_DIR and run its
# test suite there (every test but this one).
set -euo pipefail
SRC=$1
OUT=$2
cmake -S "$SRC" -B "$OUT" -DWSE_SANITIZE=ON -DWSE_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$OUT" -j2 >/dev/null
ctest --test-dir "$OUT" --output-on-failure -j2
