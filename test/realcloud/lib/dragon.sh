# shellcheck shell=bash
# Dragon itself, deployed with devstack/lib/dragon (the devstack plugin's functions) from
# this checkout, against the mini cloud's Keystone (JWS), PostgreSQL and RabbitMQ.

mc_dragon_up() {
  # shellcheck source=lib/devstack-compat.sh
  . "$MC_LIB/devstack-compat.sh"
  DRAGON_DIR=$MC_REPO
  DRAGON_CONF_DIR=$MC_STATE/dragon
  DRAGON_STATE_PATH=$MC_STATE/dragon/state
  DRAGON_SERVICE_HOST=$MC_HOST
  DRAGON_REGION=RegionOne
  DRAGON_SERVICE_PASSWORD=$MC_SERVICE_PASS
  DRAGON_KEYSTONE_URL=$MC_KEYSTONE_URL
  DRAGON_TRANSPORT_URL=$MC_TRANSPORT_URL
  DRAGON_DB_URL="postgresql://dragon:$MC_DBPASS@$MC_HOST:$MC_PG_PORT/dragon"
  DRAGON_JWS_PUBLIC_KEYS=/etc/keystone/jws-keys/public
  DRAGON_NODE=${MINICLOUD_NODE:-$(PATH=$MC_ORIG_PATH command -v node)}
  DRAGON_USER=root
  # shellcheck source=../../../devstack/lib/dragon
  . "$MC_REPO/devstack/lib/dragon"
  # install_dragon keeps an existing build (CI's `npm ci` made it from the same tree). Here the tree may
  # have moved on since: a build older than any source would deploy yesterday's Dragon.
  if [ -f "$MC_REPO/dist/services/api/main.js" ] &&
    [ -n "$(find "$MC_REPO/services" "$MC_REPO/plugins" "$MC_REPO/bin" "$MC_REPO/migrations" \( -name '*.ts' -o -name manifest.json \) \
      -newer "$MC_REPO/dist/services/api/main.js" -print -quit)" ]; then
    mc_log "sources newer than dist/: npm run build"
    (cd "$MC_REPO" && PATH=$MC_ORIG_PATH npm run build >"$MC_LOGS/dragon-build.log" 2>&1) ||
      mc_die "npm run build failed (see $MC_LOGS/dragon-build.log)"
  fi
  install_dragon
  configure_dragon
  init_dragon >"$MC_LOGS/dragon-manage.log" 2>&1
  create_dragon_accounts
  start_dragon
}
