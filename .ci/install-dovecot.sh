#!/usr/bin/env bash
# Installs what the mail-program tests need: Dovecot (IMAP, POP3, submission, MySQL and SQLite
# drivers) and Postfix (SQLite and MySQL lookup tables, the sender milter's python3-milter, acl for
# setfacl) from Debian's packages, and the `vmail` system user that owns the test mail store.
# Idempotent: safe to run on every CI run; it only calls apt-get when a package is missing.
set -euo pipefail

PACKAGES=(dovecot-imapd dovecot-pop3d dovecot-submissiond dovecot-mysql dovecot-sqlite
  postfix postfix-sqlite postfix-mysql python3-milter acl)
# The tests' mail program.
command -v curl >/dev/null 2>&1 || PACKAGES+=(curl)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-dovecot: run as root (or install sudo)" >&2
    exit 1
  fi
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ] || ! command -v dovecot >/dev/null 2>&1; then
  echo "install-dovecot: installing ${missing[*]:-${PACKAGES[*]}}"
  # Postfix without its debconf questions and without a system configuration: the tests start
  # their own instance from deploy/postfix/.
  echo 'postfix postfix/main_mailer_type select No configuration' | "${SUDO[@]}" debconf-set-selections
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
fi

# The packages add the `dovecot` and `dovenull` users; mail files need a user of their own (the
# static userdb's uid/gid) so that no mail process runs as root or as Dovecot's internal users.
if ! getent group vmail >/dev/null; then
  "${SUDO[@]}" groupadd --system vmail
fi
if ! getent passwd vmail >/dev/null; then
  "${SUDO[@]}" useradd --system --gid vmail --home-dir /nonexistent --no-create-home \
    --shell /usr/sbin/nologin vmail
fi

# On machines with systemd the packages start a system-wide Dovecot; it does not disturb the
# tests, which start their own instance on free loopback ports.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
  echo "install-dovecot: note: a system Dovecot service is running; tests use their own instance"
fi

echo "install-dovecot: $(dovecot --version) and Postfix $(postconf -d -h mail_version) ready; vmail uid=$(id -u vmail) gid=$(getent group vmail | cut -d: -f3)"
