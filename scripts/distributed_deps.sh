#!/usr/bin/env bash
# The machine packages of `make test-distributed`: PostgreSQL's server binaries (the machine's, else
# Debian's `postgresql`) and Debian's `redis-server`. Installs only what is missing (apt-get update once).
set -euo pipefail
missing=()
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && ! command -v postgres >/dev/null 2>&1; then
  missing+=(postgresql)
fi
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "distributed test: missing ${missing[*]}; install them (sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "distributed test: installing ${missing[*]} with apt-get"
apt-get update -qq
# The packages' own services are not started: the test runs its own throwaway servers on free ports.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.hub-distributed
chmod +x /usr/sbin/policy-rc.d.hub-distributed
if [ ! -e /usr/sbin/policy-rc.d ]; then
  ln -s /usr/sbin/policy-rc.d.hub-distributed /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d /usr/sbin/policy-rc.d.hub-distributed' EXIT
else
  trap 'rm -f /usr/sbin/policy-rc.d.hub-distributed' EXIT
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
