#!/bin/bash
# shellcheck shell=bash
# devstack plugin of Dragon (workload disaster recovery). The work is in lib/dragon,
# which test/realcloud/minicloud sources too.

# shellcheck source=devstack/lib/dragon
source "$DEST/dragon/devstack/lib/dragon"

# devstack's database URL is for SQLAlchemy; Dragon speaks to PostgreSQL through node-pg.
dragon_devstack_urls() {
  if [ "${DATABASE_TYPE:-}" != postgresql ]; then
    echo "dragon: needs DATABASE_TYPE=postgresql (Dragon stores its data in PostgreSQL)" >&2
    return 1
  fi
  DRAGON_DB_URL="postgresql://$DATABASE_USER:$DATABASE_PASSWORD@$DATABASE_HOST:5432/dragon"
  DRAGON_TRANSPORT_URL="rabbit://$RABBIT_USERID:$RABBIT_PASSWORD@$RABBIT_HOST:5672/"
  DRAGON_KEYSTONE_URL="$KEYSTONE_SERVICE_URI/v3"
  if [ "${KEYSTONE_TOKEN_FORMAT:-fernet}" = jws ]; then
    DRAGON_JWS_PUBLIC_KEYS=${KEYSTONE_CONF_DIR:-/etc/keystone}/jws-keys/public
  fi
}

if is_service_enabled dragon-api dragon-engine; then
  if [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing Dragon"
    command -v "${DRAGON_NODE:-node}" >/dev/null || install_package nodejs npm
    install_dragon
  elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    echo_summary "Configuring Dragon"
    dragon_devstack_urls
    recreate_database dragon
    configure_dragon
    create_dragon_accounts
  elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
    echo_summary "Initializing and starting Dragon"
    init_dragon
    start_dragon
  fi

  if [[ "$1" == "unstack" ]]; then
    stop_dragon
  fi

  if [[ "$1" == "clean" ]]; then
    cleanup_dragon
  fi
fi
