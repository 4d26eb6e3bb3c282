#!/usr/bin/env bash
# Install what Strongroom needs on Debian 12, only where it is missing; then the
# virtualenv from requirements.txt (rebuilt when requirements.txt changes).
# `--runtime` (the node installer, on a production host): only what a node runs.
# Every program the code or the tests run comes from a package listed here:
# mariadbd/mariadb-install-db (mariadb-server), mariadb/mariadb-dump/mariadb-binlog
# (mariadb-client), redis-server, nginx (the TLS reverse proxy, deploy/nginx/),
# systemd-analyze (systemd: the tests verify the node's units); for the tests only:
# chromium/chromedriver (browser tests), wrk (benchmark), snmptranslate (snmp) and
# smilint (smitools): the tests check the shipped MIB against the IETF base modules
# (SNMPv2-SMI ...), which Debian ships as text only in erlang-snmp.
set -euo pipefail
cd "$(dirname "$0")/.."

# The virtualenv is built on Debian's own Python: a service user must be able to run
# it, which an interpreter under another user's home (pyenv) does not allow.
packages=(mariadb-server mariadb-client redis-server nginx systemd
          libmariadb-dev pkg-config build-essential python3 python3-venv python3-dev)
if [ "${1:-}" != "--runtime" ]; then
  packages+=(chromium chromium-driver wrk snmp smitools erlang-snmp)
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing with apt: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  # The packaged MariaDB/Redis/nginx services are not used as installed: the project
  # starts its own, and configures nginx's site itself (the node installer).
  # They must not even start on install (Debian's nginx would serve its default site on
  # 0.0.0.0:80): a policy-rc.d that exits 101 tells the packages' scripts so. Only one
  # we made is removed, on failure too; an existing one (Docker's) is left alone.
  policy=/usr/sbin/policy-rc.d own_policy=false
  if [ ! -e "$policy" ]; then
    own_policy=true
    trap '$sudo_cmd rm -f "$policy"' EXIT
    printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee "$policy" >/dev/null
    $sudo_cmd chmod 755 "$policy"
  fi
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  if $own_policy; then
    $sudo_cmd rm -f "$policy"
    trap - EXIT
  fi
fi

python=/usr/bin/python3
stamp=.venv/.requirements.sha256
wanted="$(sha256sum requirements.txt | cut -d' ' -f1) $python"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Building .venv from requirements.txt"
  rm -rf .venv
  "$python" -m venv .venv
  # python -m pip: a venv copied from elsewhere keeps a pip script aimed at its old home.
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  echo "$wanted" > "$stamp"
fi
