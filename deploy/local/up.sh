#!/usr/bin/env bash
# Brings up a local Exchange network without containers: RabbitMQ and PostgreSQL from the OS
# packages (installed when absent), and N node processes (default 3, at most 10) taken from the
# sample manifest, each with its own database, keys generated on first start, a manifest carrying
# their public keys, broker users that may read only their own queue, and OAuth clients for staff,
# auditors and admins. Loopback only. `status.sh` shows it, `down.sh` takes it all away.
#
#   deploy/local/up.sh [N]     EXCHANGE_LOCAL_DIR (default /tmp/exchange-local) keeps the state;
#                              EXCHANGE_LOCAL_PORT (default 5100): node i listens on PORT+i;
#                              EXCHANGE_LOCAL_NO_BUILD=1 uses the Release build already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
count=${1:-3}
state=${EXCHANGE_LOCAL_DIR:-/tmp/exchange-local}
base_port=${EXCHANGE_LOCAL_PORT:-5100}
vhost=exchange-local
sample="$root/deploy/network/manifest.sample.json"

say() { echo "[local] $*" >&2; }
fail() { echo "deploy/local/up.sh: $*" >&2; exit 2; }
[[ "$count" =~ ^[0-9]+$ ]] && (( count >= 2 && count <= 10 )) || fail "N: '$count' is not a number of institutes from 2 to 10"
[ -e "$state/ids" ] && fail "a network is already up in $state (deploy/local/status.sh shows it; deploy/local/down.sh takes it down)"
command -v dotnet >/dev/null || fail "'dotnet' (the .NET 10 SDK) is required and not on PATH"
if ! command -v jq >/dev/null; then
  say "installing jq"
  apt-get install -y -qq jq >&2 || { apt-get update -qq >&2 && apt-get install -y -qq jq >&2; }
fi

say "RabbitMQ and PostgreSQL"
services=$(mktemp)
"$root/tests/services/start.sh" >"$services"
eval "$(grep '^export EXCHANGE_TEST_' "$services")"
rm -f "$services"
rabbit_admin="$EXCHANGE_TEST_RABBIT_USER:$EXCHANGE_TEST_RABBIT_PASSWORD"
management=$EXCHANGE_TEST_RABBIT_MANAGEMENT

if [ "${EXCHANGE_LOCAL_NO_BUILD:-0}" != 1 ]; then
  say "building the node and the CLI"
  # No build servers left behind: they would hold this script's output open for a caller reading it.
  dotnet build "$root/src/Exchange.Node" -c Release -nologo -v quiet -p:UseSharedCompilation=false -nodeReuse:false >&2
  dotnet build "$root/src/Exchange.Cli" -c Release -nologo -v quiet -p:UseSharedCompilation=false -nodeReuse:false >&2
fi
# Run from the build output: it is the node's content root (appsettings.json, HTTP/2 endpoints).
node_dir="$root/src/Exchange.Node/bin/Release/net10.0"
node_dll="$node_dir/Exchange.Node.dll"
cli_dll="$root/src/Exchange.Cli/bin/Release/net10.0/exchange.dll"

# Everything from here on (client secrets, broker passwords, key-encryption keys, logs) is its
# owner's alone from the moment it exists. Not earlier: packages installed under this mask would be
# unreadable by the services' own users.
umask 077
mkdir -p "$state"
mapfile -t ids < <(jq -r '.institutes[].id' "$sample" | head -n "$count")
printf '%s\n' "${ids[@]}" >"$state/ids"
# Half a network is no use to anyone: a failure on the way takes down what was started.
trap 'status=$?; if [ $status -ne 0 ]; then say "failed; taking down what was started"; "$root/deploy/local/down.sh" >&2; fi' EXIT
secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }
db_conn() { echo "Host=127.0.0.1;Username=exchange;Password=exchange;Database=exchange_local_$1"; }

# Each node's keys are made in its own database before the manifest exists: the manifest carries
# the public halves. Settings common to `keys export` and the running node:
node_args() {
  local id=$1
  echo "--Node:InstituteId=$id"
  echo "--Node:ManifestPath=$state/manifest.json"
  echo "--Node:DataDirectory=$state/$id"
  echo "--Database:Provider=Postgres"
  echo "--DataProtection:CertificatePath=$state/$id/data-protection.pem"
}

keys_json="[]"
for id in "${ids[@]}"; do
  mkdir -p "$state/$id"
  # The key-encryption key of the node's Data Protection key ring (required outside Development),
  # made before the node first starts so that nothing in its database is ever stored in clear.
  dotnet "$cli_dll" keys data-protection-certificate --out "$state/$id/data-protection.pem" >/dev/null
  su postgres -c "psql -qAt -c 'DROP DATABASE IF EXISTS exchange_local_$id' -c 'CREATE DATABASE exchange_local_$id OWNER exchange'" >/dev/null
  # keys export reads the manifest only for the institute's own entry; the sample serves until ours exists.
  mapfile -t args < <(node_args "$id" | sed "s|--Node:ManifestPath=.*|--Node:ManifestPath=$sample|")
  say "keys for $id"
  # Secrets go to the node through its environment, which only its owner can read
  # (/proc/PID/environ is 0400), never on its command line, which every user can (/proc/PID/cmdline).
  key=$(export Database__ConnectionString="$(db_conn "$id")"; cd "$node_dir" && dotnet "$node_dll" keys export "${args[@]}" --Broker:Transport=InMemory --Logging:LogLevel:Default=Warning 2>>"$state/$id/keys.log" | sed -n '/^{/,/^}/p')
  keys_json=$(jq --argjson k "$key" '. + [$k]' <<<"$keys_json")
done

say "the manifest: ${ids[*]}, their agreements and groups from the sample, their own keys"
jq --argjson keys "$keys_json" --argjson ids "$(printf '%s\n' "${ids[@]}" | jq -R . | jq -s .)" \
  --arg name "Local Exchange network" -f "$root/deploy/network/manifest-from-sample.jq" "$sample" >"$state/manifest.json"

say "RabbitMQ: virtual host $vhost, a quorum queue and a user per institute"
dotnet "$cli_dll" broker definitions --manifest "$state/manifest.json" --vhost "$vhost" \
  --credentials-out "$state/broker-credentials.json" >"$state/definitions.json"
curl -sf -u "$rabbit_admin" -X PUT "$management/api/vhosts/$vhost" >/dev/null
curl -sf -u "$rabbit_admin" -H 'content-type: application/json' -X POST \
  --data @"$state/definitions.json" "$management/api/definitions" >/dev/null \
  || fail "RabbitMQ refused the definitions"

: >"$state/clients.txt"
i=0
for id in "${ids[@]}"; do
  i=$((i + 1))
  port=$((base_port + i))
  staff=$(secret) auditor=$(secret) admin=$(secret)
  broker_user=$(jq -r --arg id "$id" '.[$id].username' "$state/broker-credentials.json")
  broker_pass=$(jq -r --arg id "$id" '.[$id].password' "$state/broker-credentials.json")
  mapfile -t args < <(node_args "$id")
  (export Database__ConnectionString="$(db_conn "$id")" Broker__Password="$broker_pass" \
      Identity__Clients__0__ClientSecret="$staff" Identity__Clients__1__ClientSecret="$auditor" Identity__Clients__2__ClientSecret="$admin"
    cd "$node_dir" && exec nohup dotnet "$node_dll" "${args[@]}" \
      --urls="http://127.0.0.1:$port" \
      --Identity:RequireHttps=false \
      --Broker:Transport=RabbitMq --Broker:Host=127.0.0.1 --Broker:VirtualHost="$vhost" \
      --Broker:Username="$broker_user" \
      --Identity:Clients:0:ClientId=staff \
      --Identity:Clients:0:Scopes:0=findings:submit --Identity:Clients:0:Scopes:1=findings:read \
      --Identity:Clients:1:ClientId=auditor \
      --Identity:Clients:1:Scopes:0=audit:read \
      --Identity:Clients:2:ClientId=admin \
      --Identity:Clients:2:Scopes:0=network:admin --Identity:Clients:2:Scopes:1=findings:read \
      </dev/null >"$state/$id/node.log" 2>&1 & echo $! >"$state/$id/pid")
  printf '%s http://127.0.0.1:%s staff %s auditor %s admin %s\n' "$id" "$port" "$staff" "$auditor" "$admin" >>"$state/clients.txt"
done

for id in "${ids[@]}"; do
  url=$(awk -v id="$id" '$1 == id { print $2 }' "$state/clients.txt")
  for _ in $(seq 1 120); do
    curl -sf --http2-prior-knowledge "$url/healthz/ready" >/dev/null 2>&1 && break
    kill -0 "$(cat "$state/$id/pid")" 2>/dev/null || { tail -20 "$state/$id/node.log" >&2; fail "node $id exited"; }
    sleep 1
  done
  curl -sf --http2-prior-knowledge "$url/healthz/ready" >/dev/null || { tail -20 "$state/$id/node.log" >&2; fail "node $id is not ready"; }
done

echo "Exchange network up: ${#ids[@]} institutes, state in $state (manifest.json, clients.txt, */node.log)"
echo
printf '%-4s %-24s %-8s %s\n' "id" "node" "client" "secret"
while read -r id url _ staff _ auditor _ admin; do
  printf '%-4s %-24s %-8s %s\n' "$id" "$url" staff "$staff"
  printf '%-4s %-24s %-8s %s\n' "" "" auditor "$auditor"
  printf '%-4s %-24s %-8s %s\n' "" "" admin "$admin"
done <"$state/clients.txt"
echo
echo "exchange login --node URL --client-id staff --client-secret SECRET; deploy/local/status.sh; deploy/local/down.sh"
