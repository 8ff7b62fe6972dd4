#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the claims-store tests (and for a
# local multi-worker trial) and prints its SQLAlchemy URL on stdout:
#
#   export CLAIMCHECK_TEST_PG_URL=$(bash scripts/start_postgres.sh)
#
# Idempotent: the cluster is made once under $CLAIMCHECK_PG_DIR (default
# /tmp/claimcheck-pg), started if it is not running, and the role and database
# are created if missing. It listens on 127.0.0.1:$CLAIMCHECK_PG_PORT (54329)
# only, with fsync off: test data, not for production. Run as root, the server
# runs as the `postgres` user (PostgreSQL refuses root); run as anyone else, it
# runs as that user. Stop it with: bash scripts/start_postgres.sh --stop
set -euo pipefail

PG_DIR=${CLAIMCHECK_PG_DIR:-/tmp/claimcheck-pg}
PORT=${CLAIMCHECK_PG_PORT:-54329}
DB=${CLAIMCHECK_PG_DB:-claimcheck_test}
ROLE=${CLAIMCHECK_PG_ROLE:-claimcheck}
PASSWORD=${CLAIMCHECK_PG_PASSWORD:-claimcheck}
DATA=$PG_DIR/data
SOCK=$PG_DIR/run
LOG=$PG_DIR/server.log

BIN=${PG_BIN:-}
if [ -z "$BIN" ]; then
  BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "start_postgres: PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN)" >&2
  exit 1
fi

if [ "$(id -u)" = "0" ]; then
  PG_USER=postgres
  as_pg() { runuser -u "$PG_USER" -- "$@"; }
else
  PG_USER=$(id -un)
  as_pg() { "$@"; }
fi

if [ "${1:-}" = "--stop" ]; then
  if [ -s "$DATA/PG_VERSION" ] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
  fi
  exit 0
fi

mkdir -p "$PG_DIR" "$SOCK"
if [ "$(id -u)" = "0" ]; then chown -R "$PG_USER": "$PG_DIR"; fi

if [ ! -s "$DATA/PG_VERSION" ]; then
  echo "start_postgres: initdb $DATA" >&2
  as_pg "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256 \
    >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
fi

if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  echo "start_postgres: starting on 127.0.0.1:$PORT (log $LOG)" >&2
  if ! as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" >&2; then
    tail -n 20 "$LOG" >&2 || true
    exit 1
  fi
fi

psql_pg() { as_pg "$BIN/psql" -h "$SOCK" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
psql_pg -v role="$ROLE" -v pw="$PASSWORD" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'role', :'pw')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'pw') \gexec
SQL
psql_pg -v role="$ROLE" -v db="$DB" >/dev/null <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL

echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
