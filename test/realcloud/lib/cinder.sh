# shellcheck shell=bash
# Cinder: api (uwsgi), scheduler, volume with the NFS driver, backup to Swift.
# This machine has no device-mapper, iSCSI target or kernel NFS: the NFS driver runs on a
# local directory bind-mounted where it would mount the share (os-brick skips mounting a
# share whose mount point is already in /proc/mounts). Limits: in-use volumes cannot be
# snapshotted or backed up (that needs nova-assisted snapshots, not in the fake driver).

MC_CINDER_EXPORT=$MC_STATE/cinder-nfs
MC_CINDER_SHARE=$MC_HOST:$MC_CINDER_EXPORT

mc_cinder_mountpoint() {
  echo "/var/lib/cinder/mnt/$(printf '%s' "$MC_CINDER_SHARE" | md5sum | cut -d' ' -f1)"
}

mc_cinder_mount() {
  local mnt
  mnt=$(mc_cinder_mountpoint)
  mkdir -p "$MC_CINDER_EXPORT" "$mnt"
  chown cinder:cinder "$MC_CINDER_EXPORT"
  mountpoint -q "$mnt" || mount --bind "$MC_CINDER_EXPORT" "$mnt"
}

mc_cinder_unmount() {
  local mnt
  mnt=$(mc_cinder_mountpoint)
  if mountpoint -q "$mnt" 2>/dev/null; then umount "$mnt"; fi
}

mc_cinder_up() {
  mc_cinder_mount
  echo "$MC_CINDER_SHARE" | mc_ini /etc/cinder/nfs_shares cinder
  mc_ini /etc/cinder/cinder.conf cinder <<INI
[DEFAULT]
my_ip = $MC_HOST
host = minicloud
log_dir =
use_stderr = true
state_path = /var/lib/cinder
transport_url = $MC_TRANSPORT_URL
auth_strategy = keystone
enabled_backends = nfs1
glance_api_servers = http://$MC_HOST:$MC_GLANCE_PORT
backup_driver = cinder.backup.drivers.swift.SwiftBackupDriver
backup_swift_container = volumebackups
backup_swift_auth = per_user
backup_swift_url = http://$MC_HOST:$MC_SWIFT_PORT/v1/AUTH_
[database]
connection = $(mc_db_url cinder)
$(mc_authtoken cinder)
$(mc_ksa_section nova cinder)
interface = public
[oslo_concurrency]
lock_path = /var/lib/cinder/tmp
[oslo_messaging_rabbit]
heartbeat_timeout_threshold = 0
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
[nfs1]
volume_backend_name = nfs1
volume_driver = cinder.volume.drivers.nfs.NfsDriver
nfs_shares_config = /etc/cinder/nfs_shares
nfs_mount_point_base = /var/lib/cinder/mnt
nfs_snapshot_support = true
nfs_sparsed_volumes = true
nas_secure_file_operations = false
nas_secure_file_permissions = false
INI
  mkdir -p /var/lib/cinder/tmp && chown -R cinder:cinder /var/lib/cinder/tmp
  su -s /bin/sh cinder -c "cinder-manage db sync" >"$MC_LOGS/cinder-manage.log" 2>&1
  mc_ks_register user=cinder:MC_SERVICE_PASS:service:admin,service \
    "service=cinderv3:volumev3:http://$MC_HOST:$MC_CINDER_PORT/v3/%(project_id)s" \
    "service=cinder:block-storage:http://$MC_HOST:$MC_CINDER_PORT/v3/%(project_id)s"
  mc_uwsgi cinder-api cinder "$MC_CINDER_PORT" /usr/bin/cinder-wsgi 1 1
  local svc fresh="" from
  mc_running cinder-volume || fresh=1
  from=0
  [ ! -e "$MC_LOGS/cinder-volume.log" ] || from=$(wc -l <"$MC_LOGS/cinder-volume.log")
  for svc in scheduler volume backup; do
    mc_start "cinder-$svc" cinder "/usr/bin/cinder-$svc" --config-file /etc/cinder/cinder.conf
  done
  mc_wait_http "http://$MC_HOST:$MC_CINDER_PORT/" 90 cinder-api
  # The NFS driver posts its capacity ~16 s after start; a volume created before that
  # finds no valid backend.
  if [ -n "$fresh" ]; then
    mc_wait_log "$MC_LOGS/cinder-volume.log" 'Driver post RPC initialization completed' 120 "$from"
  fi
  mc_cinder_quotas
}

# Room for repeated suite runs (Cinder's defaults: 10 volumes, 10 snapshots, 10 backups).
mc_cinder_quotas() {
  [ -e "$MC_RUN/cinder-quotas.done" ] && return 0
  local project
  for project in demo dr; do
    mc_openstack quota set --volumes 100 --snapshots 100 --backups 100 --gigabytes 4000 \
      --backup-gigabytes 4000 "$project" >/dev/null
  done
  touch "$MC_RUN/cinder-quotas.done"
}
