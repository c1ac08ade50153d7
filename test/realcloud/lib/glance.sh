# shellcheck shell=bash
# Glance with the file store, eventlet server (Debian's default), run as user glance.

mc_glance_up() {
  mkdir -p /var/lib/glance/images /var/lib/glance/staging /var/lib/glance/tasks
  chown -R glance:glance /var/lib/glance
  mc_ini /etc/glance/glance-api.conf glance <<INI
[DEFAULT]
bind_host = $MC_HOST
bind_port = $MC_GLANCE_PORT
workers = 0
log_file =
use_stderr = true
enabled_backends = fs:file
[database]
connection = $(mc_db_url glance)
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = /var/lib/glance/images/
[os_glance_staging_store]
filesystem_store_datadir = /var/lib/glance/staging/
[os_glance_tasks_store]
filesystem_store_datadir = /var/lib/glance/tasks/
$(mc_authtoken glance)
[paste_deploy]
flavor = keystone
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
INI
  su -s /bin/sh glance -c "glance-manage db_sync" >"$MC_LOGS/glance-manage.log" 2>&1
  mc_ks_register user=glance:MC_SERVICE_PASS:service:admin,service \
    "service=glance:image:http://$MC_HOST:$MC_GLANCE_PORT"
  mc_start glance-api glance /usr/bin/glance-api --config-file /etc/glance/glance-api.conf
  mc_wait_http "http://$MC_HOST:$MC_GLANCE_PORT/healthcheck" 90 glance-api
}
