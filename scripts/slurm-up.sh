#!/bin/bash
# Start a throwaway Slurm 22.05 cluster for the tests, as root, on 127.0.0.1: munged, MariaDB + slurmdbd
# (accounting), slurmctld and one slurmd per node of the test fleet, whose node lines and topology.conf
# are what `neocloud slurm config` generates (so the test also proves slurmctld accepts them).
# Fake GPUs are character devices (gres/gpu rejects other files). Env: S (state dir), FLEET, NEOCLOUD.
# Prints the SLURM_CONF to export. Stop with scripts/slurm-down.sh.
set -euo pipefail
S=${S:-/tmp/neocloud-slurm}
FLEET=${FLEET:-tests/slurm/fleet.yaml}
NEOCLOUD=${NEOCLOUD:-.venv/bin/neocloud}
export SLURM_CONF=$S/slurm.conf
if [ -f "$SLURM_CONF" ] && timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; then
  echo "Slurm already running: SLURM_CONF=$SLURM_CONF"; exit 0
fi
for b in slurmctld slurmd slurmdbd sacctmgr munged mariadbd; do
  command -v $b >/dev/null || { echo "slurm-up: $b missing (make system-deps installs it)" >&2; exit 1; }
done
S=$S scripts/slurm-down.sh >/dev/null 2>&1 || true
rm -rf "$S"; mkdir -p $S/{state,log,run,fakedev,spool} ; chmod 755 $S
install -d -m 1777 $S/jobs   # tenants' job scripts and output (separate Unix users)
for i in $(seq 0 7); do mknod $S/fakedev/nvidia$i c 1 3; done

# neocloud's generated configuration for the test fleet
$NEOCLOUD slurm config --fleet "$FLEET" --slurm-conf-only 2>/dev/null > $S/nodes.conf
$NEOCLOUD slurm config --fleet "$FLEET" --topology-only 2>/dev/null > $S/topology.conf
$NEOCLOUD slurm config --fleet "$FLEET" --gres-conf 2>/dev/null > $S/gres.generated
NODES=$(sed -n 's/^NodeName=\([^ ]*\) .*/\1/p' $S/nodes.conf | paste -sd,)
HOSTS=$(${PY:-.venv/bin/python} -c "import sys; from neocloud.control.adapters.slurm.hostlist import expand; print(' '.join(expand(sys.argv[1])))" "$NODES")
N=$(wc -w <<<"$HOSTS")
# local cluster: every slurmd on 127.0.0.1, one port each (in hostlist order)
sed -i "s|^\(NodeName=.*\) State=UNKNOWN|\1 NodeAddr=127.0.0.1 Port=[17001-$((17000 + N))] State=UNKNOWN|" $S/nodes.conf
# fake GPUs: the generated gres.conf says AutoDetect=nvml, Count=N; here they are device files
awk -v dev=$S/fakedev '/^AutoDetect/ {print "AutoDetect=off"; next}
  { for (i = 1; i <= NF; i++) if ($i ~ /^Count=/) { n = substr($i, 7); $i = "File=" dev "/nvidia[0-" n - 1 "]" } print }' \
  $S/gres.generated > $S/gres.conf

cat > $S/slurm.conf <<CONF
# neocloud test cluster (scripts/slurm-up.sh): site settings, then neocloud's generated nodes
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool/%n
SlurmctldPidFile=$S/run/slurmctld.pid
SlurmdPidFile=$S/run/slurmd-%n.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=1
TopologyPlugin=topology/tree
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
MailProg=/bin/true
MinJobAge=600
KillWait=2
TreeWidth=65533
# a tenant sees nothing of another in Slurm either; a job needs a valid association (account, user)
PrivateData=jobs,reservations,accounts,usage,users
AccountingStorageEnforce=associations,limits
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
AccountingStorageTRES=gres/gpu,gres/gpu:h100
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=5
CONF
cat $S/nodes.conf >> $S/slurm.conf
chmod 644 $S/slurm.conf $S/gres.conf $S/topology.conf

# munge (Debian's postinst makes the key)
[ -s /etc/munge/munge.key ] || { mungekey --create --force; chown munge:munge /etc/munge/munge.key; }
install -d -o munge -g munge -m 0755 /run/munge
munge -n >/dev/null 2>&1 || runuser -u munge -- /usr/sbin/munged

# MariaDB + slurmdbd (accounting: sacctmgr accounts and users, sacct job records)
M=$S/mysql; install -d -o mysql -g mysql $M
mariadb-install-db --user=mysql --datadir=$M/data --auth-root-authentication-method=normal >$S/log/mariadb-install.log 2>&1
runuser -u mysql -- mariadbd --no-defaults --datadir=$M/data --socket=$M/mysqld.sock --port=33060 --bind-address=127.0.0.1 \
  --pid-file=$M/mysqld.pid --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=2 --log-error=$M/error.log </dev/null >/dev/null 2>&1 &
for i in $(seq 1 200); do mariadb -S $M/mysqld.sock -uroot -e 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
mariadb -S $M/mysqld.sock -uroot -e "create user if not exists 'slurm'@'127.0.0.1' identified by 'slurmpw'; grant all on slurm_acct_db.* to 'slurm'@'127.0.0.1';"
cat > $S/slurmdbd.conf <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
LogFile=$S/log/slurmdbd.log
PidFile=$S/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=33060
StorageUser=slurm
StoragePass=slurmpw
StorageLoc=slurm_acct_db
CONF
chmod 600 $S/slurmdbd.conf
SLURM_CONF=$S/slurm.conf slurmdbd
for i in $(seq 1 200); do (echo > /dev/tcp/127.0.0.1/6819) 2>/dev/null && break; sleep 0.1; done
CLUSTER=$(sed -n 's/^ClusterName=//p' $S/slurm.conf)
sacctmgr -i add cluster "$CLUSTER" >/dev/null 2>&1 || true

slurmctld -i
for n in $HOSTS; do mkdir -p $S/spool/$n; slurmd -N $n; done
for i in $(seq 1 200); do scontrol ping 2>/dev/null | grep -q 'is UP' && break; sleep 0.1; done
for i in $(seq 1 300); do [ "$(sinfo -h -t idle -o %D | paste -sd+ | bc)" = "$N" ] && break; sleep 0.1; done
sinfo
echo "Slurm up: SLURM_CONF=$SLURM_CONF"
