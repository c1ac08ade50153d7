# shellcheck shell=bash
# Stand-ins for the few devstack functions devstack/lib/dragon calls, so the mini cloud
# deploys Dragon with the very same functions as the devstack plugin.

# create_service_user NAME [ROLE]: a user in project service with ROLE and role service.
create_service_user() {
  mc_ks_register "user=$1:MC_SERVICE_PASS:service:${2:-admin},service"
}

# get_or_create_service NAME TYPE DESCRIPTION: prints a handle get_or_create_endpoint takes.
get_or_create_service() { echo "$1:$2"; }

# get_or_create_endpoint SERVICE REGION PUBLIC_URL [ADMIN_URL] [INTERNAL_URL]
# (the mini cloud has one region and the same URL for every interface).
get_or_create_endpoint() { mc_ks_register "service=$1:$3"; }

# run_process SERVICE "COMMAND" [GROUP] [USER]
run_process() {
  local user=${4:-root}
  # shellcheck disable=SC2086 # COMMAND is a command line, as in devstack
  mc_start "$1" "$user" $2
}

stop_process() { mc_stop "$1"; }
