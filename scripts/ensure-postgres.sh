#!/usr/bin/env bash
# Make a PostgreSQL server reachable for the tests and print its URL on stdout.
#
# 1. $CANISTER_FACTORY_TEST_PG, if set, is used as it is.
# 2. A server already listening on 127.0.0.1:5432 with trust authentication and a database `test` (our machines
#    and CI have one) is used.
# 3. Otherwise, as root on Debian, install Debian's `postgresql`, start its cluster, and create a `test` database
#    with a password for `postgres`.
# If none of this works, print nothing: the PostgreSQL tests then skip, visibly, saying why.
set -u
log() { echo "ensure-postgres: $*" >&2; }

if [ -n "${CANISTER_FACTORY_TEST_PG:-}" ]; then echo "$CANISTER_FACTORY_TEST_PG"; exit 0; fi

try_url() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", 5432), timeout=2); s.close()
PY
  command -v psql >/dev/null 2>&1 && psql "$1" -tAc "select 1" >/dev/null 2>&1
}

for url in "postgresql://postgres@127.0.0.1:5432/test" "postgresql://postgres:postgres@127.0.0.1:5432/test"; do
  if try_url "$url"; then echo "$url"; exit 0; fi
done

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  log "no PostgreSQL server reachable and cannot install one (need root and apt-get)"; exit 0
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing Debian's postgresql"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2 \
    || { log "apt-get install postgresql failed"; exit 0; }
fi
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -z "$version" ]; then log "no PostgreSQL cluster found after install"; exit 0; fi
pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 2>/dev/null || true
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >&2 || true
su postgres -c "createdb test" >/dev/null 2>&1 || true
url="postgresql://postgres:postgres@127.0.0.1:5432/test"
if try_url "$url"; then echo "$url"; else log "PostgreSQL started but $url does not answer"; fi
