#!/usr/bin/env bash
# Start, stop or inspect a single-node SLURM cluster on this machine (for the tests and for trying
# `signllava submit` without a real cluster). Needs root and the Debian packages slurm-wlm and munge:
#
#   bash slurm/cluster.sh install   # apt-get install slurm-wlm munge (once per machine)
#   bash slurm/cluster.sh start     # munged + slurmctld + slurmd, one node named after this host
#   bash slurm/cluster.sh status    # sinfo / squeue
#   bash slurm/cluster.sh stop      # stop the daemons (state, spool and logs stay under $SLURM_DIR)
#
# The node offers this machine's CPUs and memory (from `slurmd -C`) and no GPUs, in one partition
# `local`, the partition of slurm/local.yaml. Requeued jobs restart after `cred_expire` seconds
# (SLURM's default is 120; 10 here keeps the preemption test short).
set -euo pipefail

SLURM_DIR=${SLURM_DIR:-/var/tmp/signllava-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# written by signllava slurm/cluster.sh"

die() { echo "slurm/cluster.sh: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root (it writes $CONF and starts daemons)"; }

install() {
    need_root
    command -v slurmctld >/dev/null && command -v munged >/dev/null && return 0
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

write_conf() {
    local host node
    host=$(hostname -s)
    # `slurmd -C` prints this machine's NodeName line (CPUs, sockets, cores, memory)
    node=$(slurmd -C | head -1)
    [[ $node == NodeName=* ]] || die "slurmd -C did not describe this node: $node"
    if [ -f "$CONF" ] && ! grep -q "$MARK" "$CONF"; then
        cp "$CONF" "$CONF.before-signllava"  # someone else's config: keep it
    fi
    mkdir -p "$SLURM_DIR"/{state,spool,log} /etc/slurm
    cat >"$CONF.tmp" <<EOF
$MARK
ClusterName=signllava
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
AuthInfo=cred_expire=10
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
JobRequeue=1
KillWait=10
MinJobAge=600
InactiveLimit=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
$node State=UNKNOWN
PartitionName=local Nodes=${node%% *} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
    sed -i "s/^NodeName=[^ ]*/NodeName=$host/; s/^PartitionName=local Nodes=NodeName=[^ ]*/PartitionName=local Nodes=$host/" "$CONF.tmp"
    mv "$CONF.tmp" "$CONF"
}

start() {
    need_root
    command -v slurmctld >/dev/null || die "slurm-wlm is not installed: run 'bash slurm/cluster.sh install'"
    stop quiet
    [ -s /etc/munge/munge.key ] || mungekey -c
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
    pgrep -x munged >/dev/null || munged --force
    write_conf
    slurmctld
    slurmd
    for _ in $(seq 60); do
        if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            echo "SLURM is up: partition local on $(hostname -s) ($(sinfo -h -o '%c CPUs, %m MB')); logs in $SLURM_DIR/log"
            return 0
        fi
        sleep 1
    done
    tail -5 "$SLURM_DIR"/log/*.log >&2 || true
    die "the node did not come up within 60 s"
}

stop() {
    pkill -x slurmd 2>/dev/null || true
    pkill -x slurmctld 2>/dev/null || true
    for _ in $(seq 20); do pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || break; sleep 0.5; done
    [ "${1:-}" = quiet ] || echo "SLURM stopped"
}

status() {
    sinfo && squeue
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: bash slurm/cluster.sh install|start|stop|status" ;;
esac
