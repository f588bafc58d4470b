#!/usr/bin/env bash
# Runs a command with the servers the tests need: installs redis-server and Dovecot from
# Debian's packages when missing, starts a private redis-server on a free loopback port in a
# temp dir, exports INTAKE_TEST_REDIS_ADDR, runs "$@", and stops everything after.
# Dovecot is started per test (internal/testenv), each on its own port and temp dir.
set -euo pipefail

need=()
# redis-sentinel comes with redis-server (the Sentinel lab of internal/testenv runs
# `redis-server --sentinel`, the same binary, so an existing redis-server is enough).
command -v redis-server >/dev/null 2>&1 || need+=(redis-server redis-sentinel)
command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "with-services: ${need[*]} missing and not root: install them (apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "with-services: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  # Debian starts packaged services where it can; the tests use their own instances.
  (service redis-server stop || true; service redis-sentinel stop || true; service dovecot stop || true) >/dev/null 2>&1
fi
export PATH="$PATH:/usr/sbin"

tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp" --save "" --appendonly no --daemonize no \
  --logfile "$tmp/redis.log" &
redis_pid=$!
cleanup() { kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.05
done
export INTAKE_TEST_REDIS_ADDR="127.0.0.1:$port"
echo "with-services: redis-server on $INTAKE_TEST_REDIS_ADDR" >&2
"$@"
