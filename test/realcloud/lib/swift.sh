# shellcheck shell=bash
# Swift: one replica, one device, keystoneauth + SLO in the proxy pipeline.
# The device is an XFS loop image when the machine allows loop mounts (ext4's ~4 KiB of
# xattrs per inode cannot hold Swift's maximum object metadata); else a plain directory.

MC_SWIFT_DEVICES=$MC_STATE/swift/node
MC_SWIFT_IMAGE=$MC_STATE/swift/d1.img

mc_swift_storage() {
  local dev=$MC_SWIFT_DEVICES/d1
  mkdir -p "$dev"
  if ! mountpoint -q "$dev" && [ "${MINICLOUD_SWIFT_DISK:-loop}" = loop ]; then
    [ -s "$MC_SWIFT_IMAGE" ] || { truncate -s 20G "$MC_SWIFT_IMAGE" && mkfs.xfs -q "$MC_SWIFT_IMAGE"; }
    mount -o loop,noatime "$MC_SWIFT_IMAGE" "$dev" 2>"$MC_LOGS/swift-mount.log" ||
      mc_log "loop mount not allowed here: Swift uses a plain directory (objects with near-maximum metadata will fail)"
  fi
  chown -R swift:swift "$MC_STATE/swift" /var/cache/swift 2>/dev/null || true
  mkdir -p /var/cache/swift && chown swift:swift /var/cache/swift
}

mc_swift_unmount() {
  if mountpoint -q "$MC_SWIFT_DEVICES/d1" 2>/dev/null; then umount "$MC_SWIFT_DEVICES/d1"; fi
}

mc_swift_rings() {
  local kind port
  cd /etc/swift || return 1
  for kind in account:6202 container:6201 object:6200; do
    port=${kind#*:}
    kind=${kind%%:*}
    if [ ! -s "$kind.ring.gz" ]; then
      swift-ring-builder "$kind.builder" create 8 1 1 >/dev/null
      swift-ring-builder "$kind.builder" add --region 1 --zone 1 --ip "$MC_HOST" --port "$port" \
        --device d1 --weight 100 >/dev/null
      swift-ring-builder "$kind.builder" rebalance >/dev/null
    fi
  done
  cd - >/dev/null || return 1
}

mc_swift_conf() {
  mkdir -p /etc/swift
  [ -s /etc/swift/swift.conf ] || cat >/etc/swift/swift.conf <<INI
[swift-hash]
swift_hash_path_suffix = $(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
swift_hash_path_prefix = $(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
[storage-policy:0]
name = Policy-0
default = yes
INI
  local kind port
  for kind in account:6202 container:6201 object:6200; do
    port=${kind#*:}
    kind=${kind%%:*}
    mc_ini "/etc/swift/$kind-server.conf" swift <<INI
[DEFAULT]
bind_ip = $MC_HOST
bind_port = $port
workers = 0
user = swift
devices = $MC_SWIFT_DEVICES
mount_check = false
log_name = $kind-server
[pipeline:main]
pipeline = healthcheck recon $kind-server
[app:$kind-server]
use = egg:swift#$kind
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:recon]
use = egg:swift#recon
recon_cache_path = /var/cache/swift
[$kind-replicator]
[$kind-updater]
[$kind-auditor]
INI
  done
  mc_ini /etc/swift/proxy-server.conf swift <<INI
[DEFAULT]
bind_ip = $MC_HOST
bind_port = $MC_SWIFT_PORT
workers = 1
user = swift
log_name = proxy-server
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats container_sync bulk tempurl ratelimit authtoken keystoneauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
$(mc_authtoken swift | tail -n +2)
delay_auth_decision = True
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
reseller_admin_role = ResellerAdmin
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
memcache_servers = $MC_MEMCACHED
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:container_sync]
use = egg:swift#container_sync
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:ratelimit]
use = egg:swift#ratelimit
[filter:copy]
use = egg:swift#copy
[filter:container-quotas]
use = egg:swift#container_quotas
[filter:account-quotas]
use = egg:swift#account_quotas
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
allow_object_versioning = true
[filter:symlink]
use = egg:swift#symlink
INI
  mc_ini /etc/swift/container-sync-realms.conf swift </dev/null
}

mc_swift_up() {
  mc_swift_storage
  mc_swift_conf
  mc_swift_rings
  chown -R swift:swift /etc/swift
  mc_ks_register role=ResellerAdmin user=swift:MC_SERVICE_PASS:service:admin,service \
    "service=swift:object-store:http://$MC_HOST:$MC_SWIFT_PORT/v1/AUTH_%(project_id)s"
  local kind
  for kind in account container object; do
    mc_start "swift-$kind" swift "/usr/bin/swift-$kind-server" "/etc/swift/$kind-server.conf" -v
  done
  # The proxy (workers = 1) and the updater drop to user swift themselves.
  mc_start swift-proxy root /usr/bin/swift-proxy-server /etc/swift/proxy-server.conf -v
  # Keeps the account's object and byte counts current (Dragon's bank reports them).
  mc_start swift-container-updater root /usr/bin/swift-container-updater /etc/swift/container-server.conf -v
  mc_wait_http "http://$MC_HOST:$MC_SWIFT_PORT/healthcheck" 60 swift-proxy
}
