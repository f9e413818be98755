#!/usr/bin/env bash
# Start PostgreSQL and Redis if they are not answering, then fail loudly if they still are not:
# the test suite must never silently skip the production database.
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

pg_up() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

if ! command -v pg_isready >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "installing PostgreSQL and Redis client tools" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null
fi

if ! pg_up; then
  echo "PostgreSQL is down: starting it" >&2
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1 || true)
  if [ -n "$version" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
if ! redis_up; then
  echo "Redis is down: starting it" >&2
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 15); do redis_up && break; sleep 1; done
fi

pg_up || { echo "FATAL: PostgreSQL is not reachable on $PGHOST:$PGPORT" >&2; exit 1; }
redis_up || { echo "FATAL: Redis is not reachable on 127.0.0.1:$REDIS_PORT" >&2; exit 1; }
echo "services: PostgreSQL and Redis are up" >&2
