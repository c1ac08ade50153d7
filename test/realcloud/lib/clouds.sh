# shellcheck shell=bash
# Projects, users and the clouds.yaml of the suites:
#   real-admin  admin in project admin
#   real-demo   user demo, member of project demo (the protected workload's side)
#   real-dr     user dr, member of project dr (the recovery side)
# and *-fernet twins that authenticate against the fernet Keystone on :5001.

mc_clouds_up() {
  mc_ks_register role=member role=reader role=service project=service project=demo project=dr \
    user=demo:MC_DEMO_PASS:demo:member,reader user=dr:MC_DR_PASS:dr:member,reader
  local tmp
  tmp=$(mktemp)
  {
    echo "# Written by test/realcloud/minicloud; throwaway passwords of a loopback test cloud."
    echo "clouds:"
    mc_cloud_entry real-admin admin "$MC_ADMIN_PASS" admin "$MC_KEYSTONE_URL"
    mc_cloud_entry real-demo demo "$MC_DEMO_PASS" demo "$MC_KEYSTONE_URL"
    mc_cloud_entry real-dr dr "$MC_DR_PASS" dr "$MC_KEYSTONE_URL"
    mc_cloud_entry real-admin-fernet admin "$MC_ADMIN_PASS" admin "$MC_KEYSTONE_FERNET_URL"
    mc_cloud_entry real-demo-fernet demo "$MC_DEMO_PASS" demo "$MC_KEYSTONE_FERNET_URL"
  } >"$tmp"
  install -m 0600 "$tmp" "$MC_CLOUDS_YAML"
  rm -f "$tmp"
}

mc_cloud_entry() {
  local name=$1 user=$2 password=$3 project=$4 url=$5
  cat <<YAML
  $name:
    auth:
      auth_url: $url
      username: $user
      password: $password
      project_name: $project
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    interface: public
YAML
}
