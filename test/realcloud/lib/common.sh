# shellcheck shell=bash
# Shared helpers of the mini cloud: paths, passwords, timing, process control.
# Sourced by ../minicloud; every other lib/*.sh relies on these names.

# Debian's python3 and dist-packages: a pyenv shim earlier on PATH would hide them.
MC_ORIG_PATH=${MC_ORIG_PATH:-$PATH}
export MC_ORIG_PATH
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C.UTF-8 LANG=C.UTF-8

MC_HOST=127.0.0.1
MC_STATE=${MINICLOUD_DIR:-/var/tmp/dragon-minicloud}
MC_LOGS=$MC_STATE/logs
MC_RUN=$MC_STATE/run
MC_ETC=$MC_STATE/etc
MC_CLOUDS_YAML=$MC_STATE/clouds.yaml
MC_TIMES=$MC_STATE/times.log

# Ports: the well-known service ports, and for the servers Dragon's test suite also
# starts privately (PostgreSQL, RabbitMQ) fixed ports below the kernel's ephemeral
# range (32768-60999), where test/support/services.ts picks its own with freePort().
MC_PG_PORT=${MINICLOUD_PG_PORT:-5439}
MC_RABBIT_PORT=${MINICLOUD_RABBIT_PORT:-5679}
MC_RABBIT_DIST_PORT=25679
MC_EPMD_PORT=4379
MC_MEMCACHED_PORT=11219
MC_KEYSTONE_PORT=5000
MC_SWIFT_PORT=8080
MC_GLANCE_PORT=9292
MC_CINDER_PORT=8776
MC_PLACEMENT_PORT=8778
MC_NOVA_PORT=8774
MC_NEUTRON_PORT=9696
MC_HEAT_PORT=8004

# Throwaway passwords of a loopback-only test cloud (never printed by the scripts).
MC_DBPASS=minicloud-db
MC_RABBIT_USER=openstack
MC_RABBIT_PASS=minicloud-rabbit
MC_ADMIN_PASS=minicloud-admin
MC_DEMO_PASS=minicloud-demo
MC_DR_PASS=minicloud-dr
MC_SERVICE_PASS=minicloud-service

MC_KEYSTONE_URL=http://$MC_HOST:$MC_KEYSTONE_PORT/v3
MC_TRANSPORT_URL="rabbit://$MC_RABBIT_USER:$MC_RABBIT_PASS@$MC_HOST:$MC_RABBIT_PORT/"
MC_MEMCACHED="$MC_HOST:$MC_MEMCACHED_PORT"

mc_log() { printf '[minicloud] %s\n' "$*" >&2; }
mc_die() {
  printf '[minicloud] ERROR: %s\n' "$*" >&2
  exit 1
}

mc_dirs() {
  mkdir -p "$MC_LOGS" "$MC_RUN" "$MC_ETC"
  chmod 0755 "$MC_STATE" "$MC_LOGS"
}

# mc_step NAME FUNCTION...: runs a step, prints and records its duration in seconds.
mc_step() {
  local name=$1 start ms secs
  shift
  start=$(date +%s%N)
  "$@" || mc_die "step '$name' failed (logs: $MC_LOGS)"
  ms=$((($(date +%s%N) - start) / 1000000))
  secs="$((ms / 1000)).$((ms % 1000 / 100))"
  printf '[minicloud] %-24s %6s s\n' "$name" "$secs" >&2
  printf '%s %s %s\n' "$(date -u +%FT%TZ)" "$name" "$secs" >>"$MC_TIMES"
}

# pid file helpers: only processes recorded here are ever stopped by `down`.
mc_pidfile() { echo "$MC_RUN/$1.pid"; }
mc_running() {
  local f
  f=$(mc_pidfile "$1")
  [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

# mc_start NAME USER CMD...: starts CMD in its own session as USER (root if "root"),
# stdout/stderr to logs/NAME.log, pid recorded. No-op when already running.
mc_start() {
  local name=$1 user=$2
  shift 2
  if mc_running "$name"; then
    mc_log "$name already running (pid $(cat "$(mc_pidfile "$name")"))"
    return 0
  fi
  local -a prefix=()
  if [ "$user" != root ]; then
    # Daemons with workers = 0 do not drop privileges themselves: start them as their user.
    prefix=(setpriv "--reuid=$user" "--regid=$user" --init-groups)
  fi
  touch "$MC_LOGS/$name.log"
  [ "$user" = root ] || chown "$user" "$MC_LOGS/$name.log"
  setsid "${prefix[@]}" "$@" >>"$MC_LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$(mc_pidfile "$name")"
}

# mc_stop NAME: stops the process group started by mc_start (TERM, then KILL after 15 s).
mc_stop() {
  local name=$1 f pid i
  f=$(mc_pidfile "$name")
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }
    : "$i"
  fi
  rm -f "$f"
}

# mc_uwsgi NAME USER PORT WSGI_FILE [PROCESSES] [THREADS]: a WSGI app under uwsgi.
# Eventlet-patched apps (nova-api, cinder-api) need threads = 1, or requests hang.
# `Connection: close` because http-socket closes the connection after each response
# without saying so (clients that reuse sockets get ECONNRESET otherwise).
mc_uwsgi() {
  local name=$1 user=$2 port=$3 wsgi=$4 procs=${5:-1} threads=${6:-1}
  local ini=$MC_ETC/$name-uwsgi.ini
  cat >"$ini" <<INI
[uwsgi]
plugins = python3
http-socket = $MC_HOST:$port
wsgi-file = $wsgi
master = true
processes = $procs
threads = $threads
enable-threads = true
thunder-lock = true
add-header = Connection: close
lazy-apps = true
buffer-size = 65535
die-on-term = true
need-app = true
uid = $user
gid = $user
chdir = /var/lib/$user
INI
  # MC_UWSGI_ENV: one VAR=value for the app (e.g. another config file).
  [ -z "${MC_UWSGI_ENV:-}" ] || echo "env = $MC_UWSGI_ENV" >>"$ini"
  mc_start "$name" root /usr/bin/uwsgi --ini "$ini"
}

# mc_wait_http URL SECONDS [NAME]: waits until URL answers with any HTTP status below 500.
mc_wait_http() {
  local url=$1 secs=$2 name=${3:-} code i
  for i in $(seq 1 $((secs * 2))); do
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" || true)
    if [ -n "$code" ] && [ "$code" != 000 ] && [ "$code" -lt 500 ]; then return 0; fi
    if [ -n "$name" ] && ! mc_running "$name"; then
      mc_log "$name exited; last lines of $MC_LOGS/$name.log:"
      tail -n 20 "$MC_LOGS/$name.log" >&2
      return 1
    fi
    sleep 0.5
  done
  : "$i"
  mc_log "$url did not answer within $secs s"
  return 1
}

# mc_wait_log FILE PATTERN SECONDS [AFTER_LINE]: waits until PATTERN shows up in FILE
# (only in lines after AFTER_LINE: logs are appended across runs).
mc_wait_log() {
  local file=$1 pattern=$2 secs=$3 after=${4:-0} i
  for i in $(seq 1 "$secs"); do
    tail -n "+$((after + 1))" "$file" 2>/dev/null | grep -q -- "$pattern" && return 0
    sleep 1
  done
  : "$i"
  mc_log "'$pattern' not seen in $file within $secs s"
  return 1
}

# mc_ini FILE: writes stdin to FILE (a service config we own entirely), readable by the service group.
mc_ini() {
  local file=$1 group=${2:-root}
  mkdir -p "$(dirname "$file")"
  cat >"$file"
  chown "root:$group" "$file"
  chmod 0640 "$file"
}

# The [keystone_authtoken] section every service shares (service user = the service name).
mc_authtoken() {
  local user=$1
  cat <<INI
[keystone_authtoken]
www_authenticate_uri = http://$MC_HOST:$MC_KEYSTONE_PORT
auth_url = http://$MC_HOST:$MC_KEYSTONE_PORT
memcached_servers = $MC_MEMCACHED
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $user
password = $MC_SERVICE_PASS
service_token_roles_required = true
INI
}

# A keystoneauth section ([placement], [neutron], [nova], ...) for a service user.
mc_ksa_section() {
  local section=$1 user=$2
  cat <<INI
[$section]
auth_type = password
auth_url = http://$MC_HOST:$MC_KEYSTONE_PORT/v3
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $user
password = $MC_SERVICE_PASS
region_name = RegionOne
INI
}

# mc_db_url DATABASE [ROLE]
mc_db_url() { echo "postgresql+psycopg2://${2:-$1}:$MC_DBPASS@$MC_HOST:$MC_PG_PORT/$1"; }

# Runs the Keystone registration helper (one python process: much faster than many CLI calls).
mc_ks_register() {
  OS_AUTH_URL=$MC_KEYSTONE_URL OS_PASSWORD=$MC_ADMIN_PASS MC_SERVICE_PASS=$MC_SERVICE_PASS \
    MC_DEMO_PASS=$MC_DEMO_PASS MC_DR_PASS=$MC_DR_PASS /usr/bin/python3 "$MC_LIB/ks-register.py" "$@"
}

# An admin `openstack` CLI call (Debian's client; slow: ~2 s each, so used sparingly).
mc_openstack() {
  OS_CLOUD=real-admin OS_CLIENT_CONFIG_FILE=$MC_CLOUDS_YAML /usr/bin/openstack "$@"
}
