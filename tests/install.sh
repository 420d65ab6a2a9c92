#!/bin/bash
# tests/install.sh BUILD_DIR SOURCE_DIR WSEMU USERLIB - what a user gets from
# `cmake --install BUILD_DIR --prefix P`, used the README's ways:
#  1. the program, the static library, every public header, the
#     topologies (not the invalid corpus), wsemu.pc and the CMake package;
#  2. the prefix is moved before use: nothing may depend on where it was
#     installed;
#  3. the out-of-tree example (tests/user_program.c with
#     examples/out_of_tree/) built once with pkg-config and once with
#     find_package(wsemu), run by the installed wsemu from outside the
#     source tree, with its named topology: verify PASSED and the digest of
#     the build tree's run of the same program;
#  4. the installed topology is the one read (edited, the cycles change),
#     and $WSEMU_TOPOLOGY_DIR still comes first;
#  5. a host program linking the library (benchmarks/bench_fabric.c) builds
#     with pkg-config and with find_package(wsemu) and validates its run.
set -u
BUILD=$1
SRC=$2
WSEMU=$3
USERLIB=$4
W=$(mktemp -d /tmp/wsemu-install.XXXXXX)
trap 'rm -rf "$W"' EXIT
unset WSEMU_TOPOLOGY_DIR
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
digest() { awk -F'"' '/^  "digest"/ {print $4}' "$1"; }

cmake --install "$BUILD" --prefix "$W/first" >"$W/install.log" 2>&1 || { echo "FAIL: cmake --install: $(tail -5 "$W/install.log")"; exit 1; }
mv "$W/first" "$W/prefix"
P=$W/prefix

# --- 1. the files
for f in bin/wsemu lib/libwsemu.a lib/pkgconfig/wsemu.pc lib/cmake/wsemu/wsemuConfig.cmake \
         lib/cmake/wsemu/wsemuConfigVersion.cmake lib/cmake/wsemu/wsemuTargets.cmake; do
    [ -f "$P/$f" ] || fail "not installed: $f"
done
[ -x "$P/bin/wsemu" ] || fail "bin/wsemu is not executable"
for h in "$SRC"/include/wse/*.h; do
    cmp -s "$h" "$P/include/wse/$(basename "$h")" || fail "header not installed: include/wse/$(basename "$h")"
done
for t in "$SRC"/topologies/*.yaml; do
    cmp -s "$t" "$P/share/wsemu/topologies/$(basename "$t")" || fail "topology not installed: $(basename "$t")"
done
[ ! -e "$P/share/wsemu/topologies/invalid" ] || fail "the invalid-topology corpus was installed"
"$P/bin/wsemu" --version | grep -q '^wsemu [0-9]' || fail "installed wsemu --version"

# --- 3. the out-of-tree PE program, two ways, in a directory of its own
PROJ=$W/myprog
mkdir "$PROJ"
cp "$SRC/tests/user_program.c" "$SRC/examples/out_of_tree/CMakeLists.txt" "$SRC/examples/out_of_tree/user_double.yaml" "$PROJ/"
cd "$PROJ" || exit 1
export PKG_CONFIG_PATH=$P/lib/pkgconfig
if ! cc -shared -fPIC -Wall -Wextra -Werror $(pkg-config --cflags wsemu) -o pc.so user_program.c 2>"$W/err"; then
    fail "pkg-config build of the PE program: $(head -c 400 "$W/err")"
fi
[ "$(pkg-config --variable=topologydir wsemu)" -ef "$P/share/wsemu/topologies" ] || fail "wsemu.pc topologydir"
if ! { cmake -S . -B build -DCMAKE_PREFIX_PATH="$P" >"$W/cmake.log" 2>&1 && cmake --build build >>"$W/cmake.log" 2>&1; }; then
    fail "find_package(wsemu) build of the PE program: $(tail -5 "$W/cmake.log")"
fi
"$WSEMU" run "$SRC/examples/out_of_tree/user_double.yaml" --program-lib "$USERLIB" --json --quiet >"$W/tree.json" ||
    fail "the build tree's run of the example"
want=$(digest "$W/tree.json")
[ -n "$want" ] || fail "no digest from the build tree's run"
for lib in pc.so build/user_program.so; do
    [ -f "$lib" ] || continue
    "$P/bin/wsemu" run user_double.yaml --program-lib "./$lib" >"$W/out" 2>"$W/err" &&
        grep -q 'verify           PASSED' "$W/out" || fail "installed run of $lib: $(cat "$W/out" "$W/err" | head -5)"
    "$P/bin/wsemu" run user_double.yaml --program-lib "./$lib" --json --quiet >"$W/run.json" 2>"$W/err"
    got=$(digest "$W/run.json")
    [ "$got" = "$want" ] || fail "installed run of $lib: digest '$got', build tree '$want'"
done

# --- 4. which topology directory: the installed one, after $WSEMU_TOPOLOGY_DIR
# (the edited installed 8x8 is 8 x 4 PEs: a region of half the PEs)
sed -i 's/^fabric: {width: 8, height: 8}/fabric: {width: 8, height: 4}/' "$P/share/wsemu/topologies/8x8.yaml"
grep -q '^fabric: {width: 8, height: 4}' "$P/share/wsemu/topologies/8x8.yaml" || fail "could not edit the installed 8x8.yaml"
"$P/bin/wsemu" run user_double.yaml --program-lib ./pc.so --json --quiet >"$W/edited.json" 2>"$W/err"
grep -q '"pes": 32,' "$W/edited.json" && [ "$(digest "$W/edited.json")" != "$want" ] ||
    fail "the installed wsemu did not read the installed 8x8.yaml: $(head -c 300 "$W/err")"
WSEMU_TOPOLOGY_DIR=$SRC/topologies "$P/bin/wsemu" run user_double.yaml --program-lib ./pc.so --json --quiet >"$W/env.json" 2>"$W/err"
[ "$(digest "$W/env.json")" = "$want" ] || fail "\$WSEMU_TOPOLOGY_DIR does not come first: $(head -c 300 "$W/err")"
mkdir "$W/empty"
WSEMU_TOPOLOGY_DIR=$W/empty "$P/bin/wsemu" run user_double.yaml --program-lib ./pc.so >"$W/out" 2>"$W/err"
rc=$?
[ "$rc" -eq 2 ] && grep -q "$W/empty/8x8.yaml" "$W/err" || fail "a topology missing from \$WSEMU_TOPOLOGY_DIR: exit $rc, $(head -c 300 "$W/err")"

# --- 5. a host program linking the library
mkdir "$W/host"
cd "$W/host" || exit 1
cp "$SRC/benchmarks/bench_fabric.c" .
if cc -Wall -Wextra -Werror $(pkg-config --cflags wsemu) -o bench_pc bench_fabric.c $(pkg-config --libs wsemu) 2>"$W/err"; then
    ./bench_pc rows 16 8 8 | grep -q 'validates=yes' || fail "host program built with pkg-config does not validate"
else
    fail "pkg-config build of a host program: $(head -c 400 "$W/err")"
fi
cat >CMakeLists.txt <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(host LANGUAGES C)
find_package(wsemu 0.1 REQUIRED)
add_executable(bench bench_fabric.c)
target_link_libraries(bench PRIVATE wsemu::wsemu)
file(GENERATE OUTPUT wsemu_cli.txt CONTENT "$<TARGET_FILE:wsemu::cli>\n${wsemu_TOPOLOGY_DIR}\n")
EOF
if cmake -S . -B build -DCMAKE_PREFIX_PATH="$P" >"$W/cmake.log" 2>&1 && cmake --build build >>"$W/cmake.log" 2>&1; then
    ./build/bench rows 16 8 8 | grep -q 'validates=yes' || fail "host program built with find_package does not validate"
    [ "$(sed -n 1p build/wsemu_cli.txt)" -ef "$P/bin/wsemu" ] || fail "wsemu::cli is not the installed program: $(cat build/wsemu_cli.txt)"
    [ "$(sed -n 2p build/wsemu_cli.txt)" -ef "$P/share/wsemu/topologies" ] || fail "wsemu_TOPOLOGY_DIR: $(cat build/wsemu_cli.txt)"
else
    fail "find_package(wsemu) build of a host program: $(tail -5 "$W/cmake.log")"
fi

[ "$fails" -eq 0 ] && echo "install: the installed wsemu runs the example built with pkg-config and with find_package(wsemu), digest $want"
echo "install: $fails failed"
[ "$fails" -eq 0 ]
