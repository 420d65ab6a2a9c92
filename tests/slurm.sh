#!/bin/bash
# tests/slurm.sh WSEMU SOURCE_DIR - a real single-node Slurm cluster in a
# temporary directory (munge, slurmctld, slurmd), and a batch job that runs
# heat2d with mpirun inside the allocation and with srun --mpi=pmix, on 4
# overcommitted tasks; both must give the single-rank digest.  Needs root
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
echo "1 passed, 0 failed"
