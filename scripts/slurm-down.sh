#!/bin/bash
# Stop what scripts/slurm-up.sh started, by its PID files (never by process name).
S=${S:-/tmp/neocloud-slurm}
stop() { [ -f "$1" ] || return 0; p=$(cat "$1"); kill "$p" 2>/dev/null; for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; rm -f "$1"; }
for f in $S/run/slurmd-*.pid; do stop "$f"; done
stop $S/run/slurmctld.pid
stop $S/run/slurmdbd.pid
stop $S/mysql/mysqld.pid
true
