# shellcheck shell=bash
# Leftovers of earlier runs on a reused state directory. The suites clean up after themselves, but a run
# that was killed or failed midway can leave servers, volumes, snapshots and backups behind, and the fake
# compute host and the projects' Cinder quota are small: the next run would then fail with "No valid host"
# or a quota error that has nothing to do with the code under test. `up` creates none of these itself,
# so everything found is a leftover. Images, networks and bank containers are left alone (cheap, and the
# suites name theirs per run).

mc_scrub_ids() { mc_openstack "$@" --all-projects -f value -c ID 2>/dev/null || true; }

mc_scrub_leftovers() {
  local servers snapshots backups volumes id
  servers=$(mc_scrub_ids server list)
  if [ -n "$servers" ]; then
    mc_log "removing $(wc -w <<<"$servers") leftover server(s)"
    # shellcheck disable=SC2086 # one id per word
    mc_openstack server delete --wait $servers || true
  fi
  backups=$(mc_scrub_ids volume backup list)
  for id in $backups; do mc_openstack volume backup delete --force "$id" || true; done
  snapshots=$(mc_scrub_ids volume snapshot list)
  for id in $snapshots; do mc_openstack volume snapshot delete --force "$id" || true; done
  volumes=$(mc_scrub_ids volume list)
  if [ -n "$volumes$snapshots$backups" ]; then
    mc_log "removing $(wc -w <<<"$volumes") leftover volume(s), $(wc -w <<<"$snapshots") snapshot(s), $(wc -w <<<"$backups") backup(s)"
  fi
  for id in $volumes; do
    # A volume left attached to a server deleted above, or stuck mid-operation: back to available first.
    mc_openstack volume set --state available --detached "$id" >/dev/null 2>&1 || true
    mc_openstack volume delete --force "$id" || true
  done
}
