#!/bin/bash
# Start a throwaway PostgreSQL cluster for the tests on 127.0.0.1:$PGPORT (initdb refuses root: run as postgres).
set -euo pipefail
PGDIR=${PGDIR:-/tmp/neocloud-test-pg/data}
PGPORT=${PGPORT:-55432}
PGSOCK=${PGSOCK:-/tmp/neocloud-test-pg/sock}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR" status >/dev/null 2>&1; then
  echo "PostgreSQL already running in $PGDIR"; exit 0
fi
rm -rf "$PGDIR"
install -d -o postgres -g postgres "$PGDIR" "$PGSOCK"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PGDIR.initdb.log"
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR" -l "$PGDIR/server.log" -w \
  -o "-p $PGPORT -k $PGSOCK -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "create database neocloud;" >/dev/null
echo "PostgreSQL up on 127.0.0.1:$PGPORT"
