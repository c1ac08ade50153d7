# shellcheck shell=bash
# Keystone under uwsgi with JWS tokens on :5000, and a second Keystone process on the
# same database with fernet tokens on :5001 (one provider per process; the auth suites
# check Dragon against both kinds of token).

MC_KEYSTONE_FERNET_PORT=5001
MC_KEYSTONE_FERNET_URL=http://$MC_HOST:$MC_KEYSTONE_FERNET_PORT/v3

mc_keystone_conf() {
  local provider=$1
  cat <<INI
[DEFAULT]
log_dir =
use_stderr = true
[database]
connection = $(mc_db_url keystone)
[cache]
enabled = true
backend = dogpile.cache.memcached
memcache_servers = $MC_MEMCACHED
[token]
provider = $provider
expiration = 3600
[fernet_tokens]
key_repository = /etc/keystone/fernet-keys/
[jwt_tokens]
jws_private_key_repository = /etc/keystone/jws-keys/private
jws_public_key_repository = /etc/keystone/jws-keys/public
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
INI
}

mc_keystone_up() {
  mc_keystone_conf jws | mc_ini /etc/keystone/keystone.conf keystone
  mc_keystone_conf fernet | mc_ini "$MC_ETC/keystone-fernet.conf" keystone
  su -s /bin/sh keystone -c "keystone-manage db_sync" >"$MC_LOGS/keystone-manage.log" 2>&1
  keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone >>"$MC_LOGS/keystone-manage.log" 2>&1
  keystone-manage credential_setup --keystone-user keystone --keystone-group keystone >>"$MC_LOGS/keystone-manage.log" 2>&1
  if [ ! -s /etc/keystone/jws-keys/public/public.pem ]; then
    mkdir -p /etc/keystone/jws-keys/private /etc/keystone/jws-keys/public
    # create_jws_keypair writes into the current directory.
    (cd /etc/keystone/jws-keys && keystone-manage create_jws_keypair --force \
      --keystone-user keystone --keystone-group keystone &&
      mv private.pem private/ && mv public.pem public/) >>"$MC_LOGS/keystone-manage.log" 2>&1
    chown -R keystone:keystone /etc/keystone/jws-keys
  fi
  su -s /bin/sh keystone -c "keystone-manage bootstrap --bootstrap-password '$MC_ADMIN_PASS' \
    --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
    --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
    --bootstrap-admin-url $MC_KEYSTONE_URL/ --bootstrap-internal-url $MC_KEYSTONE_URL/ \
    --bootstrap-public-url $MC_KEYSTONE_URL/" >>"$MC_LOGS/keystone-manage.log" 2>&1
  mc_uwsgi keystone keystone "$MC_KEYSTONE_PORT" /usr/bin/keystone-wsgi-public 2 4
  MC_UWSGI_ENV="OS_KEYSTONE_CONFIG_FILES=$MC_ETC/keystone-fernet.conf" \
    mc_uwsgi keystone-fernet keystone "$MC_KEYSTONE_FERNET_PORT" /usr/bin/keystone-wsgi-public 1 2
  mc_wait_http "$MC_KEYSTONE_URL" 60 keystone
  mc_wait_http "$MC_KEYSTONE_FERNET_URL" 60 keystone-fernet
}
