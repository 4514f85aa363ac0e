#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs and starts RabbitMQ and PostgreSQL from
# the OS packages when they are absent, installs the JavaScript client's packages, builds with
# warnings as errors and runs every test project. Any missing service fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

for tool in dotnet node npm; do
  command -v "$tool" >/dev/null || { echo "tests/run.sh: '$tool' is required and not on PATH" >&2; exit 1; }
done

echo "== services"
# Into a file, not a pipe: a file never waits for the daemons started on the way to close it.
service_env=$(mktemp)
EXCHANGE_TEST_TOOLS=1 tests/services/start.sh >"$service_env"
eval "$(grep '^export EXCHANGE_TEST_' "$service_env")"
rm -f "$service_env"

echo "== JavaScript client packages"
(cd tests/clients/node && npm ci --no-audit --no-fund --loglevel=error)

echo "== build"
dotnet build Exchange.sln -c Release -warnaserror -nologo -v quiet

echo "== tests"
results=$(mktemp -d)
# The nodes the tests host write their logs here, not to the console: a passing run shows progress
# and counts; a failing one prints the failures and the log lines that matter last.
export EXCHANGE_TEST_LOGS="$results/node-logs"
status=0
dotnet test Exchange.sln -c Release --no-build -nologo \
  --logger "console;verbosity=minimal" \
  --logger "trx" --results-directory "$results" \
  --blame-hang-timeout 10m \
  -- RunConfiguration.TestSessionTimeout=2400000 || status=$?
if [ "$status" -ne 0 ]; then
  # The console log is long and interleaved with node logs; the failures go last, where they are read.
  echo "== failed tests"
  tests/services/failed-tests.py --logs "$EXCHANGE_TEST_LOGS" "$results"/*.trx || true
  echo "== tests failed (dotnet test exit $status) after $(( $(date +%s) - started ))s"
  exit "$status"
fi
rm -rf "$results"

echo "== passed in $(( $(date +%s) - started ))s"
