#!/usr/bin/env bash
# Installs (when absent) and starts the real services the tests need: RabbitMQ and PostgreSQL
# from the OS packages, bound to loopback. Idempotent: a running service is left as it is.
# Prints the environment the tests read (EXCHANGE_TEST_*) so callers can `eval` it.
set -euo pipefail
# Only the environment goes to stdout (callers eval it); everything the services and package
# tools print goes to stderr (pg_ctlcluster, for one, prints "Removed stale pid file" on stdout).
# The daemons started here must not inherit any descriptor of the caller: a daemon holding the
# caller's pipe open keeps `$(start.sh)` waiting for ever. So the body runs with stdout sent to
# stderr (bash keeps the saved stdout close-on-exec), and every daemon is started with its own
# stdio pointed at a log file.
LOG_DIR=${EXCHANGE_SERVICES_LOG_DIR:-/tmp/exchange-services}
mkdir -p "$LOG_DIR"

log() { echo "[services] $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
ensure_package() {
  local bin=$1 pkg=$2
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "$bin" ]; then
    if [ $apt_updated -eq 0 ]; then
      log "apt-get update"
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
      apt_updated=1
    fi
    log "installing $pkg"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >&2
  fi
}

# The tests also check the deploy files offline, with the tools an operator would use; tests/run.sh
# asks for them (deploy/local/up.sh does not need them).
if [ "${EXCHANGE_TEST_TOOLS:-0}" = 1 ]; then
  ensure_package jq jq
  ensure_package openssl openssl
  ensure_package docker-compose docker-compose
  ensure_package kubectl kubernetes-client
  ensure_package sqlite3 sqlite3
fi

RABBIT_NODE=${EXCHANGE_RABBIT_NODENAME:-rabbit@localhost}
export RABBITMQ_NODENAME=$RABBIT_NODE
# Loopback only: the AMQP listener, the management listener and epmd.
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export ERL_EPMD_ADDRESS=127.0.0.1

start_rabbitmq() {
  ensure_package rabbitmq-server rabbitmq-server
  # rabbitmqctl starts epmd itself when it is not running, and that epmd would inherit whatever
  # descriptors rabbitmqctl had; start it first, detached from ours.
  if ! epmd -names >/dev/null 2>&1; then
    as_root env ERL_EPMD_ADDRESS=127.0.0.1 epmd -daemon </dev/null >>"$LOG_DIR/epmd.log" 2>&1
  fi
  if as_root env RABBITMQ_NODENAME="$RABBIT_NODE" rabbitmqctl -q status >/dev/null 2>&1; then
    log "RabbitMQ already running ($RABBIT_NODE)"
    return
  fi
  # The management plugin gives the HTTP API that the permission tests and operators use.
  as_root rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
  local conf=/etc/rabbitmq/rabbitmq.conf
  if ! grep -q "^management.tcp.ip" "$conf" 2>/dev/null; then
    printf 'management.tcp.ip = 127.0.0.1\nloopback_users = none\n' | as_root tee -a "$conf" >/dev/null
  fi
  # The same bound on a message as deploy/compose/rabbitmq.conf: 16 MiB, above the largest envelope.
  if ! grep -q "^max_message_size" "$conf" 2>/dev/null; then
    printf 'max_message_size = 16777216\n' | as_root tee -a "$conf" >/dev/null
  fi
  log "starting RabbitMQ ($RABBIT_NODE)"
  as_root env RABBITMQ_NODENAME="$RABBIT_NODE" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    ERL_EPMD_ADDRESS=127.0.0.1 rabbitmq-server -detached \
    </dev/null >>"$LOG_DIR/rabbitmq-start.log" 2>&1 \
    || { cat "$LOG_DIR/rabbitmq-start.log" >&2; return 1; }
  # -detached returns before the node registers with epmd, and await_startup fails on a node
  # it cannot see yet, so wait for it to appear first.
  for _ in $(seq 1 120); do
    as_root env RABBITMQ_NODENAME="$RABBIT_NODE" rabbitmqctl -q ping >/dev/null 2>&1 && break
    sleep 1
  done
  as_root env RABBITMQ_NODENAME="$RABBIT_NODE" rabbitmqctl -q await_startup --timeout 120
}

start_postgres() {
  ensure_package pg_ctlcluster postgresql
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  if [ -z "$version" ]; then
    log "no PostgreSQL cluster found; creating one"
    version=$(ls /usr/lib/postgresql | sort -V | tail -n1)
    as_root pg_createcluster "$version" main >&2
  fi
  if ! as_root pg_ctlcluster "$version" main status >/dev/null 2>&1; then
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster "$version" main start </dev/null >>"$LOG_DIR/postgresql-start.log" 2>&1 \
      || { cat "$LOG_DIR/postgresql-start.log" >&2; return 1; }
  else
    log "PostgreSQL $version already running"
  fi
  for _ in $(seq 1 60); do
    as_root su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
    sleep 1
  done
  as_root su postgres -c "psql -qAt" >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'exchange') THEN
    CREATE ROLE exchange LOGIN PASSWORD 'exchange' CREATEDB;
  END IF;
END \$\$;
SQL
}

RABBIT_ADMIN_USER=${EXCHANGE_TEST_RABBIT_USER:-exchange-test}
RABBIT_ADMIN_PASS=${EXCHANGE_TEST_RABBIT_PASSWORD:-exchange-test}
ctl() { as_root env RABBITMQ_NODENAME="$RABBIT_NODE" rabbitmqctl -q "$@"; }

start_services() {
  start_rabbitmq
  start_postgres
  # The list is read whole before it is searched: `rabbitmqctl | grep -q` under pipefail fails
  # when grep stops reading early (rabbitmqctl dies of the closed pipe, exit 70), and the user
  # then looked absent on a machine where it already existed.
  local users
  users=$(ctl list_users)
  if ! grep -q "^${RABBIT_ADMIN_USER}[[:space:]]" <<<"$users"; then
    ctl add_user "$RABBIT_ADMIN_USER" "$RABBIT_ADMIN_PASS" >/dev/null
  else
    # A user left by an earlier run keeps the password this run expects.
    ctl change_password "$RABBIT_ADMIN_USER" "$RABBIT_ADMIN_PASS" >/dev/null
  fi
  ctl set_user_tags "$RABBIT_ADMIN_USER" administrator >/dev/null
  ctl set_permissions -p / "$RABBIT_ADMIN_USER" ".*" ".*" ".*" >/dev/null
}

start_services </dev/null >&2

cat <<ENV
export EXCHANGE_TEST_RABBIT_HOST=127.0.0.1
export EXCHANGE_TEST_RABBIT_USER=$RABBIT_ADMIN_USER
export EXCHANGE_TEST_RABBIT_PASSWORD=$RABBIT_ADMIN_PASS
export EXCHANGE_TEST_RABBIT_MANAGEMENT=http://127.0.0.1:15672
export EXCHANGE_TEST_RABBIT_NODENAME=$RABBIT_NODE
export EXCHANGE_TEST_POSTGRES="Host=127.0.0.1;Username=exchange;Password=exchange;Database=postgres"
ENV
