#!/usr/bin/env bash
# Install (from Debian's packages) and start a PostgreSQL server with a packsim role and a
# packsim_test database, for the test of workers sharing one study. Idempotent.
set -euo pipefail
if ! command -v pg_lsclusters > /dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql > /dev/null
fi
version=$(pg_lsclusters -h | awk 'NR == 1 {print $1}')
if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    pg_createcluster "$version" main > /dev/null
fi
pg_ctlcluster "$version" main start 2> /dev/null || true
for _ in $(seq 30); do
    pg_isready -q -h localhost && break
    sleep 1
done
run() { su postgres -c "psql -q -tA -c \"$1\""; }
[ "$(run "SELECT 1 FROM pg_roles WHERE rolname = 'packsim'")" = 1 ] \
    || run "CREATE ROLE packsim LOGIN PASSWORD 'packsim'"
[ "$(run "SELECT 1 FROM pg_database WHERE datname = 'packsim_test'")" = 1 ] \
    || run "CREATE DATABASE packsim_test OWNER packsim"
