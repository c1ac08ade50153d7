# shellcheck shell=bash
# Heat: heat-api (eventlet, :8004) and one heat-engine, with the stack-user domain.

mc_heat_up() {
  mc_ini /etc/heat/heat.conf heat <<INI
[DEFAULT]
transport_url = $MC_TRANSPORT_URL
num_engine_workers = 1
stack_user_domain_name = heat
stack_domain_admin = heat_domain_admin
stack_domain_admin_password = $MC_SERVICE_PASS
heat_metadata_server_url = http://$MC_HOST:8000
heat_waitcondition_server_url = http://$MC_HOST:8000/v1/waitcondition
log_dir =
use_stderr = true
[heat_api]
bind_host = $MC_HOST
bind_port = $MC_HEAT_PORT
workers = 1
[database]
connection = $(mc_db_url heat)
$(mc_authtoken heat)
$(mc_ksa_section trustee heat | grep -v -e region_name -e project_name -e project_domain_name)
[clients_keystone]
auth_uri = http://$MC_HOST:$MC_KEYSTONE_PORT
[oslo_messaging_rabbit]
heartbeat_timeout_threshold = 0
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
INI
  su -s /bin/sh heat -c "heat-manage db_sync" >"$MC_LOGS/heat-manage.log" 2>&1
  mc_ks_register role=heat_stack_owner role=heat_stack_user domain=heat \
    user=heat:MC_SERVICE_PASS:service:admin,service \
    user=heat_domain_admin@heat:MC_SERVICE_PASS:: domainrole=heat_domain_admin@heat:admin \
    user=demo:MC_DEMO_PASS:demo:heat_stack_owner user=dr:MC_DR_PASS:dr:heat_stack_owner \
    "service=heat:orchestration:http://$MC_HOST:$MC_HEAT_PORT/v1/%(tenant_id)s"
  mc_start heat-engine heat /usr/bin/heat-engine --config-file /etc/heat/heat.conf
  mc_start heat-api heat /usr/bin/heat-api --config-file /etc/heat/heat.conf
  mc_wait_http "http://$MC_HOST:$MC_HEAT_PORT/" 90 heat-api
}
