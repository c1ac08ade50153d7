# shellcheck shell=bash
# Installs every package the mini cloud needs from Debian's own archive.

MC_PACKAGES=(
  rabbitmq-server memcached postgresql curl
  keystone python3-openstackclient python3-psycopg2 uwsgi-core uwsgi-plugin-python3
  xfsprogs swift swift-proxy swift-object swift-container swift-account
  python3-swiftclient python3-keystonemiddleware
  glance-api
  cinder-api cinder-scheduler cinder-volume cinder-backup nfs-common dmidecode qemu-utils
  placement-api neutron-server
  nova-api nova-conductor nova-scheduler nova-compute nova-compute-ironic
  heat-api heat-engine
)

mc_missing_packages() {
  local p
  for p in "${MC_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

mc_install() {
  local -a missing
  mapfile -t missing < <(mc_missing_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    mc_log "all ${#MC_PACKAGES[@]} packages already installed"
    return 0
  fi
  mc_log "installing ${#missing[@]} packages: ${missing[*]}"
  # Package scripts must not start the services (there is no init system to own them):
  # Debian's policy-rc.d convention, created only if the image has none.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
  fi
  # Every OpenStack package's debconf questions default to "do not configure": keep them.
  local q
  for q in keystone/configure_db glance/configure_db cinder/configure_db nova/configure_db \
    neutron/configure_db heat/configure_db placement/configure_db; do
    echo "${q%%/*} $q boolean false"
  done | debconf-set-selections
  if ! apt-cache policy keystone | grep -q 'Candidate: [0-9]'; then
    apt-get update >"$MC_LOGS/apt-update.log" 2>&1
  fi
  apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null >"$MC_LOGS/apt-install.log" 2>&1 ||
    { tail -n 30 "$MC_LOGS/apt-install.log" >&2; return 1; }
}
