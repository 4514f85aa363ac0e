#!/usr/bin/env bash
# Shows the local network that up.sh started: each node's process, readiness and queue depth.
set -uo pipefail
state=${EXCHANGE_LOCAL_DIR:-/tmp/exchange-local}
[ -e "$state/ids" ] || { echo "no local network in $state"; exit 1; }
down=0
printf '%-4s %-24s %-8s %-8s %s\n' id node process ready inbox
while read -r id url _; do
  pid=$(cat "$state/$id/pid" 2>/dev/null || echo 0)
  if kill -0 "$pid" 2>/dev/null; then process="pid $pid"; else process=down; down=1; fi
  if curl -sf --http2-prior-knowledge "$url/healthz/ready" </dev/null >/dev/null 2>&1; then ready=yes; else ready=no; down=1; fi
  depth=$(rabbitmqctl -n "${EXCHANGE_RABBIT_NODENAME:-rabbit@localhost}" -q -p exchange-local list_queues name messages </dev/null 2>/dev/null | awk -v q="exchange.$id.inbox" '$1 == q { print $2 }')
  printf '%-4s %-24s %-8s %-8s %s\n' "$id" "$url" "$process" "$ready" "${depth:-?}"
done <"$state/clients.txt"
exit $down
