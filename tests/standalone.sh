#!/bin/bash
# tests/standalone.sh SOURCE_DIR WORK_DIR CC - the PE API stands alone:
#  1. every shipped program (src/programs/*.c but the registry) and the
#     out-of-tree example compile, warnings as errors, against a directory
#     holding wse/pe.h and nothing else of wsemu's;
#  2. pe.h includes no other header of wsemu's;
#  3. the library and the command build without CUnit (-DWSE_TESTS=OFF).
set -u
SRC=$1
WORK=$2
CC=$3
fails=0
rm -rf "$WORK"
mkdir -p "$WORK/include/wse"
cp "$SRC/include/wse/pe.h" "$WORK/include/wse/"
for f in "$SRC"/src/programs/*.c "$SRC/tests/user_program.c"; do
    [ "$(basename "$f")" = registry.c ] && continue
    if ! "$CC" -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror \
            -ffp-contract=off -fsyntax-only -I "$WORK/include" "$f" 2>"$WORK/err"; then
        echo "FAIL: $f does not compile against wse/pe.h alone: $(head -c 400 "$WORK/err")"
        fails=$((fails + 1))
    fi
done
if grep -n '#include "' "$SRC/include/wse/pe.h"; then
    echo "FAIL: wse/pe.h includes another header of wsemu's"
    fails=$((fails + 1))
fi
if ! { cmake -S "$SRC" -B "$WORK/build" -DWSE_TESTS=OFF -DWSE_WERROR=ON >"$WORK/cmake.log" 2>&1 &&
       cmake --build "$WORK/build" -j2 --target wsemu_cli >>"$WORK/cmake.log" 2>&1; }; then
    echo "FAIL: the library does not build without the tests: $(tail -5 "$WORK/cmake.log")"
    fails=$((fails + 1))
elif grep -q "^CUNIT_" "$WORK/build/CMakeCache.txt"; then
    echo "FAIL: a build without tests still looks for CUnit"
    fails=$((fails + 1))
fi
rm -rf "$WORK"
echo "standalone: $fails failed"
[ "$fails" -eq 0 ]
