#!/bin/bash
# tests/two_hosts.sh WSEMU SOURCE_DIR MPIEXEC - heat2d on two "hosts": two
# network namespaces joined by a veth pair, Open MPI over TCP only, ranks
# 0-1 in one namespace and 2-3 in the other, must give the digest of one
# rank on one host.  Needs root and iproute2; exits 77 (skipped) otherwise.
set -u
WSEMU=$1
SRC=$2
MPIEXEC=$3
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
    echo "SKIPPED: needs root and iproute2 for network namespaces"
    exit 77
fi
TMP=$(mktemp -d)
chmod 755 "$TMP"
NS1=wse$$a NS2=wse$$b
cleanup() { ip netns del "$NS1" 2>/dev/null; ip netns del "$NS2" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
ip netns add "$NS1" && ip netns add "$NS2" || { echo "SKIPPED: cannot create namespaces"; exit 77; }
ip link add "v$$a" netns "$NS1" type veth peer name "v$$b" netns "$NS2" || exit 1
ip -n "$NS1" addr add 169.254.77.1/24 dev "v$$a"
ip -n "$NS2" addr add 169.254.77.2/24 dev "v$$b"
for ns in "$NS1" "$NS2"; do ip -n "$ns" link set lo up; done
ip -n "$NS1" link set "v$$a" up
ip -n "$NS2" link set "v$$b" up
printf '169.254.77.1 slots=2\n169.254.77.2 slots=2\n' >"$TMP/hosts"
# the "remote shell": run a command in the namespace of the host named
cat >"$TMP/nsrsh" <<EOS
#!/bin/sh
case \$1 in 169.254.77.1) ns=$NS1;; 169.254.77.2) ns=$NS2;; *) exit 255;; esac; shift
exec ip netns exec \$ns unshare --uts sh -c "hostname \$ns; \$*"
EOS
chmod +x "$TMP/nsrsh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
cd "$SRC" || exit 1
JOB="jobs/heat2d.yaml --topology 8x8 --set params.steps=7"
"$WSEMU" run $JOB --json >"$TMP/one.json" || { echo "FAIL: single-rank run"; exit 1; }
"$TMP/nsrsh" 169.254.77.1 "$MPIEXEC" -n 4 --hostfile "$TMP/hosts" --mca plm_rsh_agent "$TMP/nsrsh" \
    --mca btl tcp,self --mca btl_tcp_if_include 169.254.77.0/24 --mca oob_tcp_if_include 169.254.77.0/24 \
    --bind-to none --mca mpi_yield_when_idle 1 "$WSEMU" run $JOB --grid 2x2 --json >"$TMP/two.json" 2>"$TMP/two.err"
rc=$?
one=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$TMP/one.json")
two=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$TMP/two.json" 2>/dev/null)
ranks=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["emulator"]["ranks"])' "$TMP/two.json" 2>/dev/null)
if [ $rc -ne 0 ] || [ "$one" != "$two" ] || [ "$ranks" != 4 ]; then
    echo "FAIL: two hosts: status $rc, digest '$two' (want '$one'), ranks '$ranks'; $(head -c 500 "$TMP/two.err")"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "two hosts over TCP: digest $two, same as one rank"
echo "1 passed, 0 failed"
