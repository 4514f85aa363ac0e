#!/usr/bin/env bash
# Makes everything compose.yaml reads, into $EXCHANGE_COMPOSE_STATE (default deploy/compose/state):
#   keys-<id>.json       each institute's private keys (mode 0600, owned by the image's `app` user),
#                        imported by its node on first start (Node:InitialKeysPath)
#   data-protection-<id>.pem
#                        each node's key-encryption key (certificate and RSA key, mode 0600, owned by
#                        `app`), which encrypts its Data Protection key ring: keep it with the
#                        database's backups, which cannot be read without it
#   manifest.json        uk, us and jp from the sample manifest, with their own public keys
#   definitions.json     RabbitMQ: vhost, quorum inbox queues, exchanges, one user per institute
#                        that may read only its own queue, and an administrator
#   erlang.cookie        the RabbitMQ cluster's shared secret
#   postgres.env, postgres-init.sql
#                        the superuser's password; a role and a database per institute
#   <id>.env             each node's settings and secrets
#   clients.txt          OAuth client secrets (staff, auditor, admin) and the broker administrator
# It refuses to run over an existing state: the keys there may be the only copy.
# Needs the .NET SDK (it builds and runs the CLI) and jq; EXCHANGE_COMPOSE_NO_BUILD=1 uses the
# Release build already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
state=${EXCHANGE_COMPOSE_STATE:-$root/deploy/compose/state}
ids=(uk us jp)
vhost=exchange
# The `app` user of the .NET runtime images, which the node runs as, and the `rabbitmq` and
# `postgres` users of those images.
app_uid=1654
image_uid=999

fail() { echo "deploy/compose/setup.sh: $*" >&2; exit 2; }
[ -e "$state/manifest.json" ] && fail "$state already holds a network (its keys may be the only copy); move it away first"
command -v jq >/dev/null || fail "'jq' is required"
command -v openssl >/dev/null || fail "'openssl' is required"
command -v dotnet >/dev/null || fail "'dotnet' (the .NET 10 SDK) is required"
if [ "${EXCHANGE_COMPOSE_NO_BUILD:-0}" != 1 ]; then
  dotnet build "$root/src/Exchange.Cli" -c Release -nologo -v quiet -p:UseSharedCompilation=false -nodeReuse:false >&2
fi
exchange() { dotnet "$root/src/Exchange.Cli/bin/Release/net10.0/exchange.dll" "$@"; }
secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }
# RabbitMQ's rabbit_password_hashing_sha256: base64(salt ‖ SHA-256(salt ‖ password)).
rabbit_hash() {
  local salt
  salt=$(mktemp)
  head -c 4 /dev/urandom >"$salt"
  { cat "$salt"; { cat "$salt"; printf '%s' "$1"; } | openssl dgst -sha256 -binary; } | base64 -w0
  rm -f "$salt"
}

mkdir -p "$state"
umask 077

keys="[]"
for id in "${ids[@]}"; do
  public=$(exchange keys generate --institute "$id" --out "$state/keys-$id.json" -o json)
  exchange keys data-protection-certificate --out "$state/data-protection-$id.pem" >/dev/null
  keys=$(jq --argjson k "$public" '. + [$k]' <<<"$keys")
done
jq --argjson keys "$keys" --argjson ids "$(printf '%s\n' "${ids[@]}" | jq -R . | jq -s .)" \
  --arg name "Exchange network (compose)" -f "$root/deploy/network/manifest-from-sample.jq" \
  "$root/deploy/network/manifest.sample.json" >"$state/manifest.json"

exchange broker definitions --manifest "$state/manifest.json" --vhost "$vhost" \
  --credentials-out "$state/broker-credentials.json" >"$state/definitions.raw.json"
rabbit_admin_password=$(secret)
jq --arg hash "$(rabbit_hash "$rabbit_admin_password")" --arg vhost "$vhost" '
  .vhosts = [.vhosts[] | .metadata = {default_queue_type: "quorum"}]
  | .users += [{name: "admin", password_hash: $hash, hashing_algorithm: "rabbit_password_hashing_sha256", tags: ["administrator"]}]
  | .permissions += [{user: "admin", vhost: $vhost, configure: ".*", write: ".*", read: ".*"}]
' "$state/definitions.raw.json" >"$state/definitions.json"
rm -f "$state/definitions.raw.json"

printf '%s' "$(secret)" >"$state/erlang.cookie"
chmod 0400 "$state/erlang.cookie"

printf 'POSTGRES_PASSWORD=%s\n' "$(secret)" >"$state/postgres.env"
: >"$state/postgres-init.sql"
: >"$state/clients.txt"
port=5200
for id in "${ids[@]}"; do
  port=$((port + 1))
  db_password=$(secret) staff=$(secret) auditor=$(secret) admin=$(secret)
  # Read before the here-document: a failure inside one would not stop the script.
  broker_user=$(jq -er --arg id "$id" '.[$id].username' "$state/broker-credentials.json")
  broker_password=$(jq -er --arg id "$id" '.[$id].password' "$state/broker-credentials.json")
  printf "CREATE ROLE exchange_%s LOGIN PASSWORD '%s';\nCREATE DATABASE exchange_%s OWNER exchange_%s;\n" "$id" "$db_password" "$id" "$id" >>"$state/postgres-init.sql"
  cat >"$state/$id.env" <<ENV
Node__InstituteId=$id
Node__ManifestPath=/config/manifest.json
Node__InitialKeysPath=/config/keys.json
DataProtection__CertificatePath=/config/data-protection.pem
Database__Provider=Postgres
Database__ConnectionString=Host=postgres;Username=exchange_$id;Password=$db_password;Database=exchange_$id
Broker__Transport=RabbitMq
Broker__Host=rabbit-1
Broker__ClusterNodes__0=rabbit-1
Broker__ClusterNodes__1=rabbit-2
Broker__ClusterNodes__2=rabbit-3
Broker__VirtualHost=$vhost
Broker__Username=$broker_user
Broker__Password=$broker_password
Node__AllowPlainHttp=true
Identity__RequireHttps=false
Identity__Clients__0__ClientId=staff
Identity__Clients__0__ClientSecret=$staff
Identity__Clients__0__Scopes__0=findings:submit
Identity__Clients__0__Scopes__1=findings:read
Identity__Clients__1__ClientId=auditor
Identity__Clients__1__ClientSecret=$auditor
Identity__Clients__1__Scopes__0=audit:read
Identity__Clients__2__ClientId=admin
Identity__Clients__2__ClientSecret=$admin
Identity__Clients__2__Scopes__0=network:admin
Identity__Clients__2__Scopes__1=findings:read
ENV
  printf '%s http://127.0.0.1:%s staff %s auditor %s admin %s\n' "$id" "$port" "$staff" "$auditor" "$admin" >>"$state/clients.txt"
done
printf 'rabbitmq http://127.0.0.1:15672 admin %s\n' "$rabbit_admin_password" >>"$state/clients.txt"

# Files the containers read are given to the users they run as; the env files are read by docker
# compose itself, on this machine, and stay this user's alone.
chmod 0644 "$state/manifest.json"
chmod 0711 "$state"
if [ "$(id -u)" = 0 ]; then
  chown "$app_uid" "$state"/keys-*.json "$state"/data-protection-*.pem
  chown "$image_uid" "$state/definitions.json" "$state/postgres-init.sql" "$state/erlang.cookie"
else
  echo "deploy/compose/setup.sh: not root, so the files the containers read stay yours; before 'up': sudo chown $app_uid $state/keys-*.json $state/data-protection-*.pem && sudo chown $image_uid $state/definitions.json $state/postgres-init.sql $state/erlang.cookie" >&2
fi
echo "state in $state; secrets in $state/clients.txt"
echo "docker compose -p exchange -f $root/deploy/compose/compose.yaml up -d --build"
