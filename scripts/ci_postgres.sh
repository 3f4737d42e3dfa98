#!/usr/bin/env bash
# Installs (if needed) and starts a throwaway PostgreSQL for the test suite, then prints the
# admin URL the tests use to create one database per test. Usage: eval "$(scripts/ci_postgres.sh)"
set -euo pipefail
PORT=${PGPORT_TEST:-55432}
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
DATA=$(mktemp -d /tmp/aesvc-pg.XXXXXX)
chown postgres:postgres "$DATA"
su postgres -s /bin/sh -c "$BIN/initdb -D $DATA -U postgres --auth=trust -E UTF8 >/dev/null"
su postgres -s /bin/sh -c "$BIN/pg_ctl -D $DATA -l $DATA/log -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300' -w start >/dev/null"
echo "export AESVC_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
echo "export AESVC_TEST_PG_DATA=$DATA AESVC_TEST_PG_BIN=$BIN"
