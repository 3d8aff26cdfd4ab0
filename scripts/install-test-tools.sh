#!/usr/bin/env bash
# Runs before `npm test`: the real components the suites drive (Dovecot, Chromium, curl, and MariaDB
# with the Galera provider for the cluster suite) come from Debian's packages and are installed when
# missing. Quick when they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v curl >/dev/null || missing+=(curl)
# test/e2e/galera.test.ts: three mariadbd nodes, joined by rsync state transfers.
[ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
[ -f /usr/lib/galera/libgalera_smm.so ] || missing+=(galera-4)
command -v rsync >/dev/null || missing+=(rsync)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "npm test needs ${missing[*]} (Debian packages); run as root or install them first" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash .ci/install-dovecot.sh
