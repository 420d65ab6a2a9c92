#!/bin/bash
# tests/slurm.sh WSEMU SOURCE_DIR - a real single-node Slurm cluster in a
# temporary directory (munge, slurmctld, slurmd), and a batch job that runs
# heat2d with mpirun inside the allocation and with srun --mpi=pmix, on 4
# overcommitted tasks; both must give the single-rank digest.  Then it
# submits each batch script of jobs/*.sbatch (sized to this cluster) and
# checks every run's digest against a direct run.  Needs root
# and the slurm-wlm and munge packages; exits 77 (skipped) otherwise.
set -u
WSEMU=$1
SRC=$2
if [ "$(id -u)" -ne 0 ] || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "SKIPPED: needs root, slurm-wlm and munge"
    exit 77
fi
D=$(mktemp -d)
chmod 755 "$D"
mkdir "$D/state" "$D/spool"
export SLURM_CONF=$D/slurm.conf
cat >"$SLURM_CONF" <<EOF2
ClusterName=wsemu
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge/munge.socket.2
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/slurmctld.log
SlurmdLogFile=$D/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
ReturnToService=2
EnforcePartLimits=ALL
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF2
stop() {
    for f in slurmd.pid slurmctld.pid munge/munged.pid; do
        [ -f "$D/$f" ] || continue
        p=$(cat "$D/$f")
        kill "$p" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    rm -rf "$D"
}
trap stop EXIT
install -d -o munge -g munge -m 0711 "$D/munge"
runuser -u munge -- munged --socket="$D/munge/munge.socket.2" --pid-file="$D/munge/munged.pid" \
    --log-file="$D/munge/munged.log" --seed-file="$D/munge/munged.seed" || { echo "FAIL: munged"; exit 1; }
slurmctld && slurmd -N localhost || { echo "FAIL: slurm daemons"; exit 1; }
timeout 30 sh -c 'until [ "$(sinfo -h -n localhost -o %T 2>/dev/null)" = idle ]; do sleep 0.2; done' ||
    { echo "FAIL: node never became idle"; cat "$D/slurmctld.log"; exit 1; }
cd "$SRC" || exit 1
JOB="jobs/heat2d.yaml --topology 8x8 --set params.steps=6"
"$WSEMU" run $JOB --json --threads 1 >"$D/one.json" || { echo "FAIL: single run"; exit 1; }
cat >"$D/job.sh" <<EOF2
#!/bin/bash
#SBATCH -n 4
#SBATCH --overcommit
#SBATCH -c $(nproc)
#SBATCH -t 00:05:00
#SBATCH -o $D/job.out
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_mpi_yield_when_idle=1
mpirun --bind-to none "$WSEMU" run $JOB --json --grid 2x2 >$D/mpirun.json || exit 1
srun --mpi=pmix "$WSEMU" run $JOB --json --grid 4x1 >$D/srun.json || exit 2
EOF2
jid=$(timeout 30 sbatch --parsable "$D/job.sh") || { echo "FAIL: sbatch"; exit 1; }
timeout 240 sh -c "while [ -n \"\$(squeue -h -j $jid 2>/dev/null)\" ]; do sleep 0.5; done"
code=$(scontrol show job "$jid" 2>/dev/null | grep -o 'ExitCode=[0-9:]*')
digest() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$1" 2>/dev/null; }
want=$(digest "$D/one.json")
a=$(digest "$D/mpirun.json")
b=$(digest "$D/srun.json")
if [ "$code" != "ExitCode=0:0" ] || [ "$a" != "$want" ] || [ "$b" != "$want" ]; then
    echo "FAIL: slurm job $jid $code; digests mpirun '$a' srun '$b' want '$want'"
    cat "$D/job.out" 2>/dev/null | head -20
    echo "0 passed, 1 failed"
    exit 1
fi
echo "slurm: mpirun in the allocation and srun --mpi=pmix give digest $want"

# --- the batch scripts of jobs/*.sbatch, as written but for their sizes
# (Slurm options on the sbatch line, which override the script's) and their
# problem sizes (EXTRA): each wsemu run they make must give the digest of a
# direct single-rank run of the same job.
pass=1
fails=0
export WSEMU OUT=$D/results
submit() {  # NAME SBATCH-OPTIONS... ; prints the job id
    local name=$1; shift
    timeout 30 sbatch --parsable -o "$D/$name-%j.out" "$@"
}
j1=$(EXTRA="--set params.steps=4" submit node jobs/node.sbatch) || { echo "FAIL: sbatch jobs/node.sbatch"; exit 1; }
j2=$(EXTRA="--set region.width=64 --set region.height=48" submit multinode -N 1 --ntasks-per-node=2 -c 1 \
     jobs/multinode.sbatch) || { echo "FAIL: sbatch jobs/multinode.sbatch"; exit 1; }
j3=$(EXTRA="--set params.steps=4" submit weak -n 4 --overcommit -o "$D/weak-%A_%a.out" jobs/weak.sbatch) || { echo "FAIL: sbatch jobs/weak.sbatch"; exit 1; }
timeout 400 sh -c "while [ -n \"\$(squeue -h -j $j1,$j2,$j3 2>/dev/null)\" ]; do sleep 0.5; done" ||
    echo "FAIL: the batch scripts' jobs did not finish in 400 s"
for j in $j1 $j2 $j3; do
    n=$(scontrol show job "$j" 2>/dev/null | grep -c 'ExitCode=0:0')
    want_n=1; [ "$j" = "$j3" ] && want_n=3
    [ "$n" -eq "$want_n" ] || { echo "FAIL: job $j: $n of $want_n tasks ended with exit code 0: $(scontrol show job "$j" | grep -o 'JobName=[^ ]*\|ExitCode=[0-9:]*' | tr '\n' ' ')"; fails=$((fails + 1)); }
done
runs=0
for f in "$D"/node-*.out "$D"/multinode-*.out "$D"/weak-*.out; do
    [ -f "$f" ] || continue
    line=$(grep '^wsemu-args: ' "$f") || { echo "FAIL: $f has no wsemu-args line: $(head -c 400 "$f")"; fails=$((fails + 1)); continue; }
    read -r -a args <<<"${line#wsemu-args: }"
    direct=() out=
    for ((i = 0; i < ${#args[@]}; i++)); do
        case "${args[i]}" in
        --out) out=${args[i + 1]}; i=$((i + 1));;
        --grid|--threads) i=$((i + 1));;
        *) direct+=("${args[i]}");;
        esac
    done
    got=$(digest "$out/report.json")
    "$WSEMU" "${direct[@]}" --json --quiet >"$D/direct.json" || { echo "FAIL: direct run ${direct[*]}"; fails=$((fails + 1)); continue; }
    d=$(digest "$D/direct.json")
    if [ -n "$d" ] && [ "$got" = "$d" ]; then
        echo "slurm: $(basename "$f" .out): $(grep '^ranks: \|^element ' "$f"): digest $d, as the direct run"
        runs=$((runs + 1))
    else
        echo "FAIL: $(basename "$f"): digest '$got' in $out, direct run of ${direct[*]} '$d'"
        head -20 "$f"
        fails=$((fails + 1))
    fi
done
[ "$runs" -eq 5 ] || { echo "FAIL: $runs of the 5 runs of the batch scripts checked"; fails=$((fails + 1)); }
[ "$fails" -eq 0 ] && pass=$((pass + 1))
echo "$pass passed, $([ "$fails" -eq 0 ] && echo 0 || echo 1) failed"
[ "$fails" -eq 0 ]
