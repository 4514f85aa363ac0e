#!/usr/bin/env bash
# Takes down the local network that up.sh started: stops the nodes, drops their databases, removes
# the broker's virtual host and users, and deletes the state directory. RabbitMQ and PostgreSQL
# keep running (other things may use them).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
state=${EXCHANGE_LOCAL_DIR:-/tmp/exchange-local}
[ -e "$state/ids" ] || { echo "no local network in $state"; exit 0; }
while read -r id; do
  pid=$(cat "$state/$id/pid" 2>/dev/null || echo "")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null
  fi
  su postgres -c "psql -qAt -c 'DROP DATABASE IF EXISTS exchange_local_$id WITH (FORCE)'" >/dev/null 2>&1
done <"$state/ids"
rabbitmqctl -n "${EXCHANGE_RABBIT_NODENAME:-rabbit@localhost}" -q delete_vhost exchange-local >/dev/null 2>&1
if [ -f "$state/broker-credentials.json" ]; then
  for user in $(jq -r '.[].username' "$state/broker-credentials.json"); do
    rabbitmqctl -n "${EXCHANGE_RABBIT_NODENAME:-rabbit@localhost}" -q delete_user "$user" >/dev/null 2>&1
  done
fi
rm -rf "$state"
echo "local network down"
