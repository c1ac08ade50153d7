# shellcheck shell=bash
# Placement, neutron-server and Nova with the fake virt driver.
#
# Neutron runs without agents (no openvswitch module here). Ports are bound by the ML2
# `test` mechanism driver that python3-neutron ships in its test tree: it binds hosts
# named host-ovs-filter-active, hence nova-compute's host name. It contains asserts that
# fail on a first binding, so neutron-server runs with PYTHONOPTIMIZE=1.

MC_COMPUTE_HOST=host-ovs-filter-active

mc_placement_up() {
  mc_ini /etc/placement/placement.conf placement <<INI
[DEFAULT]
log_dir =
use_stderr = true
[placement_database]
connection = $(mc_db_url placement)
[api]
auth_strategy = keystone
$(mc_authtoken placement)
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
INI
  su -s /bin/sh placement -c "placement-manage db sync" >"$MC_LOGS/placement-manage.log" 2>&1
  mc_ks_register user=placement:MC_SERVICE_PASS:service:admin,service \
    "service=placement:placement:http://$MC_HOST:$MC_PLACEMENT_PORT"
  mc_uwsgi placement placement "$MC_PLACEMENT_PORT" /usr/bin/placement-api 1 1
  mc_wait_http "http://$MC_HOST:$MC_PLACEMENT_PORT/" 60 placement
}

mc_neutron_up() {
  mc_ini /etc/neutron/neutron.conf neutron <<INI
[DEFAULT]
bind_host = $MC_HOST
bind_port = $MC_NEUTRON_PORT
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $MC_TRANSPORT_URL
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 0
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
log_dir =
use_stderr = true
[database]
connection = $(mc_db_url neutron)
$(mc_authtoken neutron)
$(mc_ksa_section nova neutron)
[oslo_concurrency]
lock_path = /var/lib/neutron/lock
[oslo_messaging_rabbit]
heartbeat_timeout_threshold = 0
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
INI
  mkdir -p /etc/neutron/plugins/ml2 /var/lib/neutron/lock
  chown -R neutron:neutron /var/lib/neutron
  mc_ini /etc/neutron/plugins/ml2/ml2_conf.ini neutron <<INI
[ml2]
type_drivers = flat,vlan,vxlan,local
tenant_network_types = vxlan
mechanism_drivers = test
extension_drivers = port_security
[ml2_type_vxlan]
vni_ranges = 1:1000
[ml2_type_flat]
flat_networks = public
[securitygroup]
enable_security_group = true
firewall_driver = noop
INI
  su -s /bin/sh neutron -c "neutron-db-manage --config-file /etc/neutron/neutron.conf \
    --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade head" >"$MC_LOGS/neutron-manage.log" 2>&1
  mc_ks_register user=neutron:MC_SERVICE_PASS:service:admin,service \
    "service=neutron:network:http://$MC_HOST:$MC_NEUTRON_PORT"
  mc_start neutron-server neutron env PYTHONOPTIMIZE=1 /usr/bin/neutron-server \
    --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini
  mc_wait_http "http://$MC_HOST:$MC_NEUTRON_PORT/" 120 neutron-server
}

mc_nova_conf() {
  cat <<INI
[DEFAULT]
my_ip = $MC_HOST
host = $MC_COMPUTE_HOST
compute_driver = fake.FakeDriver
# The fake host reports 8 vCPUs and 8000 MB: about 14 m1.tiny servers at Nova's default ratios. The suites
# need far fewer, but headroom keeps a leftover or two of a killed run from turning into "No valid host".
cpu_allocation_ratio = 16.0
ram_allocation_ratio = 8.0
transport_url = $MC_TRANSPORT_URL
state_path = /var/lib/nova
log_dir =
use_stderr = true
[api]
auth_strategy = keystone
[api_database]
connection = $(mc_db_url nova_api)
[database]
connection = $(mc_db_url nova)
$(mc_authtoken nova)
[service_user]
send_service_user_token = true
auth_type = password
auth_url = http://$MC_HOST:$MC_KEYSTONE_PORT/v3
project_domain_name = Default
user_domain_name = Default
project_name = service
username = nova
password = $MC_SERVICE_PASS
$(mc_ksa_section placement placement)
$(mc_ksa_section neutron neutron)
$(mc_ksa_section cinder cinder)
[glance]
api_servers = http://$MC_HOST:$MC_GLANCE_PORT
[scheduler]
discover_hosts_in_cells_interval = 10
[vnc]
enabled = false
[oslo_concurrency]
lock_path = /var/lib/nova/tmp
[oslo_messaging_rabbit]
heartbeat_timeout_threshold = 0
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
INI
}

mc_nova_up() {
  mc_nova_conf | mc_ini /etc/nova/nova.conf nova
  mkdir -p /var/lib/nova/tmp /var/lib/nova/instances
  chown -R nova:nova /var/lib/nova
  # The schema syncs cost ~30 s of nova-manage start-ups: skipped while Nova runs (re-run of up).
  mc_running nova-conductor || {
    su -s /bin/sh nova -c "nova-manage api_db sync"
    su -s /bin/sh nova -c "nova-manage cell_v2 map_cell0 --database_connection $(mc_db_url nova_cell0 nova)"
    su -s /bin/sh nova -c "nova-manage cell_v2 list_cells" | grep -q ' cell1 ' ||
      su -s /bin/sh nova -c "nova-manage cell_v2 create_cell --name=cell1"
    su -s /bin/sh nova -c "nova-manage db sync"
  } >"$MC_LOGS/nova-manage.log" 2>&1
  mc_ks_register user=nova:MC_SERVICE_PASS:service:admin,service \
    "service=nova:compute:http://$MC_HOST:$MC_NOVA_PORT/v2.1"
  mc_uwsgi nova-api nova "$MC_NOVA_PORT" /usr/bin/nova-api-wsgi 2 1
  local svc
  for svc in conductor scheduler compute; do
    mc_start "nova-$svc" nova "/usr/bin/nova-$svc" --config-file /etc/nova/nova.conf
  done
  mc_wait_http "http://$MC_HOST:$MC_NOVA_PORT/" 90 nova-api
  # The compute host must be in a cell before the scheduler can place anything. Its
  # records are looked up in the database (a nova-manage call costs seconds of start-up).
  local i
  for i in $(seq 1 120); do
    [ -n "$(mc_psql -d nova -c "SELECT 1 FROM compute_nodes WHERE host = '$MC_COMPUTE_HOST' AND deleted = 0")" ] && break
    mc_running nova-compute || { tail -n 20 "$MC_LOGS/nova-compute.log" >&2; return 1; }
    sleep 1
  done
  if [ -z "$(mc_psql -d nova_api -c "SELECT 1 FROM host_mappings WHERE host = '$MC_COMPUTE_HOST'")" ]; then
    su -s /bin/sh nova -c "nova-manage cell_v2 discover_hosts" >>"$MC_LOGS/nova-manage.log" 2>&1
  fi
  [ -n "$(mc_psql -d nova_api -c "SELECT 1 FROM host_mappings WHERE host = '$MC_COMPUTE_HOST'")" ] ||
    { mc_log "compute host $MC_COMPUTE_HOST was not mapped to a cell (after ${i} s)"; return 1; }
  mc_nova_flavors
}

# m1.tiny and m1.small, public (once).
mc_nova_flavors() {
  [ -e "$MC_RUN/nova-flavors.done" ] && return 0
  # A flavor that exists already makes `create` fail (409): fine, the marker is then written.
  mc_openstack flavor create --id 1 --ram 512 --disk 1 --vcpus 1 --public m1.tiny >/dev/null 2>&1 || true
  mc_openstack flavor create --id 2 --ram 2048 --disk 20 --vcpus 1 --public m1.small >/dev/null 2>&1 || true
  mc_openstack flavor show m1.tiny >/dev/null
  touch "$MC_RUN/nova-flavors.done"
}
