# shellcheck shell=bash
# RabbitMQ, memcached and a private PostgreSQL cluster: the shared servers of the cloud.
# All three are our own instances (own data, ports, pids), never the machine's defaults,
# so `down` cannot stop something it did not start.

MC_RABBIT_DIR=$MC_STATE/rabbitmq
MC_RABBIT_NODE=minicloud@localhost
MC_PG_DIR=$MC_STATE/postgresql
MC_PG_SOCK=$MC_STATE/pgsock

# The whole environment of our node (rabbitmqctl needs the same epmd, cookie and node name).
mc_rabbit_env() {
  env -i PATH="$PATH" LC_ALL=C.UTF-8 LANG=C.UTF-8 HOME="$MC_RABBIT_DIR/home" \
    ERL_EPMD_PORT="$MC_EPMD_PORT" ERL_EPMD_ADDRESS="$MC_HOST" \
    RABBITMQ_NODENAME=$MC_RABBIT_NODE \
    RABBITMQ_CONF_ENV_FILE="$MC_RABBIT_DIR/rabbitmq-env.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$MC_RABBIT_DIR/enabled_plugins" \
    RABBITMQ_NODE_IP_ADDRESS="$MC_HOST" RABBITMQ_NODE_PORT="$MC_RABBIT_PORT" \
    RABBITMQ_DIST_PORT="$MC_RABBIT_DIST_PORT" \
    RABBITMQ_MNESIA_BASE="$MC_RABBIT_DIR/mnesia" RABBITMQ_LOG_BASE="$MC_LOGS/rabbitmq" \
    RABBITMQ_CONFIG_FILE="$MC_RABBIT_DIR/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$MC_RABBIT_DIR/advanced.config" \
    RABBITMQ_PID_FILE="$MC_RABBIT_DIR/beam.pid" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}' \
    "$@"
}

mc_rabbitmqctl() { mc_rabbit_env /usr/lib/rabbitmq/bin/rabbitmqctl -n "$MC_RABBIT_NODE" "$@"; }

mc_rabbitmq_up() {
  mkdir -p "$MC_RABBIT_DIR/home" "$MC_RABBIT_DIR/mnesia" "$MC_LOGS/rabbitmq"
  if [ ! -s "$MC_RABBIT_DIR/home/.erlang.cookie" ]; then
    head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$MC_RABBIT_DIR/home/.erlang.cookie"
    chmod 0400 "$MC_RABBIT_DIR/home/.erlang.cookie"
  fi
  echo '[].' >"$MC_RABBIT_DIR/enabled_plugins"
  : >"$MC_RABBIT_DIR/rabbitmq.conf"
  : >"$MC_RABBIT_DIR/rabbitmq-env.conf"
  if ! mc_running rabbitmq; then
    # A shell that sources these same libraries runs the server with mc_rabbit_env.
    # shellcheck disable=SC2016 # expanded by that shell
    mc_start rabbitmq root env MINICLOUD_DIR="$MC_STATE" MC_LIB="$MC_LIB" bash -c \
      '. "$MC_LIB/common.sh"; . "$MC_LIB/infra.sh"; mc_rabbit_env /usr/lib/rabbitmq/bin/rabbitmq-server'

  fi
  # await_startup fails at once while the node is not registered with epmd yet.
  local i
  for i in $(seq 1 60); do
    mc_rabbitmqctl await_startup --timeout 120 >/dev/null 2>&1 && break
    mc_running rabbitmq || { tail -n 20 "$MC_LOGS/rabbitmq.log" >&2; return 1; }
    sleep 1
  done
  : "$i"
  if ! mc_rabbitmqctl list_users -q 2>/dev/null | grep -q "^$MC_RABBIT_USER\b"; then
    mc_rabbitmqctl add_user "$MC_RABBIT_USER" "$MC_RABBIT_PASS" >/dev/null
  fi
  mc_rabbitmqctl set_permissions "$MC_RABBIT_USER" '.*' '.*' '.*' >/dev/null
}

mc_rabbitmq_down() {
  if mc_running rabbitmq; then
    mc_rabbitmqctl stop >/dev/null 2>&1 || true
    # epmd of our private port is started by the node and outlives it.
    mc_rabbit_env /usr/bin/epmd -kill >/dev/null 2>&1 || true
  fi
  mc_stop rabbitmq
}

mc_memcached_up() {
  mc_start memcached root /usr/bin/memcached -u memcache -l "$MC_HOST" -p "$MC_MEMCACHED_PORT" -m 64
  local i
  for i in $(seq 1 20); do
    (exec 3<>"/dev/tcp/$MC_HOST/$MC_MEMCACHED_PORT") 2>/dev/null && return 0
    sleep 0.25
  done
  : "$i"
  return 1
}

mc_pg_bin() { compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1 | xargs dirname; }

mc_psql() {
  setpriv --reuid=postgres --regid=postgres --init-groups \
    "$(mc_pg_bin)/psql" -h "$MC_PG_SOCK" -p "$MC_PG_PORT" -U postgres -d postgres -qtA -v ON_ERROR_STOP=1 "$@"
}

mc_postgres_up() {
  local bin
  bin=$(mc_pg_bin)
  mkdir -p "$MC_PG_DIR" "$MC_PG_SOCK"
  chown postgres:postgres "$MC_PG_DIR" "$MC_PG_SOCK"
  chmod 0700 "$MC_PG_DIR"
  if [ ! -s "$MC_PG_DIR/PG_VERSION" ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups \
      "$bin/initdb" -D "$MC_PG_DIR" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 >"$MC_LOGS/postgresql-initdb.log" 2>&1
    cat >>"$MC_PG_DIR/postgresql.conf" <<CONF
listen_addresses = '$MC_HOST'
port = $MC_PG_PORT
unix_socket_directories = '$MC_PG_SOCK'
max_connections = 400
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  fi
  if ! setpriv --reuid=postgres --regid=postgres --init-groups "$bin/pg_ctl" -D "$MC_PG_DIR" status >/dev/null 2>&1; then
    touch "$MC_LOGS/postgresql.log"
    chown postgres "$MC_LOGS/postgresql.log"
    setpriv --reuid=postgres --regid=postgres --init-groups \
      "$bin/pg_ctl" -D "$MC_PG_DIR" -l "$MC_LOGS/postgresql.log" -w -t 60 start >/dev/null
  fi
  head -n 1 "$MC_PG_DIR/postmaster.pid" >"$(mc_pidfile postgresql)"
  local db
  for db in keystone glance cinder placement nova_api nova nova_cell0 neutron heat dragon; do
    mc_pg_database "$db"
  done
}

# mc_pg_database NAME: a role and a database of that name, owned by the role (PostgreSQL 15
# lets only the owner create in schema public; nova_cell0 is used by the role nova).
mc_pg_database() {
  local db=$1 role=$1
  case $db in nova_cell0) role=nova ;; esac
  mc_psql -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN CREATE ROLE $role LOGIN PASSWORD '$MC_DBPASS'; END IF; END\$\$;"
  if [ -z "$(mc_psql -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    mc_psql -c "CREATE DATABASE $db OWNER $role"
  fi
}

mc_postgres_down() {
  [ -s "$MC_PG_DIR/PG_VERSION" ] || return 0
  setpriv --reuid=postgres --regid=postgres --init-groups \
    "$(mc_pg_bin)/pg_ctl" -D "$MC_PG_DIR" -m fast -w stop >/dev/null 2>&1 || true
  rm -f "$(mc_pidfile postgresql)"
}
