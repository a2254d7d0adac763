#!/bin/bash
PGDIR=${PGDIR:-/tmp/neocloud-test-pg/data}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PGBIN" ] || exit 0
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR" -m fast -w stop >/dev/null 2>&1 || true
