#!/usr/bin/env bash
# Provisioning burst: 10,000 changes land in the outbox in one commit and the dispatcher drains them to a
# webhook receiver (tests/interop/webhook-receiver.mjs, which verifies every signature with `standardwebhooks`).
# Builds Release, starts the server on a fresh PostgreSQL database (IDENTITYHUB_TEST_POSTGRES, server-level
# connection string) with logging at Warning, creates the connector through the admin API, inserts USERS users holding
# a role of the application (a connector hears only of users in its scope) and one outbox row each with SQL (the burst
# a role edit with USERS holders writes), then prints the drain time, the
# deliveries per second, the server's CPU time per delivery and its peak working set (VmHWM).
# One connector, so PER_CONNECTOR (Provisioning:MaxParallelPerConnector, default 4) bounds the deliveries in flight.
#   USERS=10000 PARALLEL=8 PER_CONNECTOR=4 PGURL=postgresql://postgres@127.0.0.1:55432 ./bench/provisioning-burst.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
USERS=${USERS:-10000}
PARALLEL=${PARALLEL:-8}
PER_CONNECTOR=${PER_CONNECTOR:-4}
BATCH=${BATCH:-64}
PORT=${PORT:-5392}
PGURL=${PGURL:-postgresql://postgres@127.0.0.1:55432}
PSQL=${PSQL:-/usr/lib/postgresql/15/bin/psql}
DB="ih_burst_$$"
URL="http://127.0.0.1:$PORT"
SECRET="burst-admin-client-secret-0123456789abcdef0123"

WORK=$(mktemp -d /tmp/identityhub-burst.XXXXXX)
SERVER_PID=""; RECEIVER_PID=""
cleanup() {
  for pid in "$SERVER_PID" "$RECEIVER_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  "$PSQL" "$PGURL/postgres" -qAtc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
sql() { "$PSQL" "$PGURL/$DB" -qAtc "$1"; }

echo "Building Release..." >&2
dotnet build "$ROOT/src/IdentityHub.Server" -c Release -nologo -v quiet >/dev/null
[[ -d "$ROOT/tests/interop/node_modules" ]] || (cd "$ROOT/tests/interop" && npm ci --no-audit --no-fund --loglevel=error)

# PORT=0: the receiver takes any free port (an exported PORT is the server's).
(cd "$ROOT/tests/interop" && PORT=0 exec node webhook-receiver.mjs >"$WORK/receiver.out" 2>&1) & RECEIVER_PID=$!
for _ in $(seq 50); do [[ -s "$WORK/receiver.out" ]] && break; sleep 0.1; done
RPORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/receiver.out" | head -1)

PGHOSTPORT=${PGURL#postgresql://postgres@}
Database__Provider=PostgreSql \
ConnectionStrings__IdentityHub="Host=${PGHOSTPORT%:*};Port=${PGHOSTPORT#*:};Username=postgres;Database=$DB" \
Bootstrap__AdminPassword="Burst-Admin-Password-1" Bootstrap__AdminClientSecret="$SECRET" Oidc__RequireHttps=false RateLimits__TokenPerClient__PermitLimit=100000000 RateLimits__TokenPerIp__PermitLimit=100000000 RateLimits__AdminApiPerClient__PermitLimit=100000000 RateLimits__AdminApiPerIp__PermitLimit=100000000 RateLimits__ScimPerClient__PermitLimit=100000000 RateLimits__ScimPerIp__PermitLimit=100000000 \
Serilog__MinimumLevel__Default=Warning Provisioning__MaxParallelDeliveries="$PARALLEL" Provisioning__MaxParallelPerConnector="$PER_CONNECTOR" Provisioning__BatchSize="$BATCH" Provisioning__PollInterval=00:00:00.200 \
  dotnet "$ROOT/src/IdentityHub.Server/bin/Release/net10.0/IdentityHub.Server.dll" --urls "$URL" >"$WORK/server.log" 2>&1 & SERVER_PID=$!
for _ in $(seq 300); do curl -fs "$URL/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done

TOKEN=$(curl -fs -u "identityhub-admin:$SECRET" -d grant_type=client_credentials -d scope=identityhub.admin "$URL/connect/token" \
  | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
APP=$(curl -fs -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"Burst"}' "$URL/api/admin/v1/applications" \
  | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
CONNECTOR_JSON=$(curl -fs -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d "{\"kind\":\"webhook\",\"name\":\"burst\",\"settings\":{\"url\":\"http://127.0.0.1:$RPORT/hooks\"}}" "$URL/api/admin/v1/applications/$APP/connectors")
CONNECTOR=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' <<<"$CONNECTOR_JSON")
WHSEC=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' <<<"$CONNECTOR_JSON")
curl -fs -H 'content-type: application/json' -d "{\"secret\":\"$WHSEC\"}" "http://127.0.0.1:$RPORT/control/secret" >/dev/null

echo "Inserting $USERS users and the burst of $USERS outbox rows in one commit..." >&2
sql "BEGIN;
INSERT INTO \"AspNetUsers\" (\"Id\", \"UserName\", \"NormalizedUserName\", \"Email\", \"NormalizedEmail\", \"EmailConfirmed\",
  \"PhoneNumberConfirmed\", \"TwoFactorEnabled\", \"LockoutEnabled\", \"AccessFailedCount\", \"EmployeeNumber\", \"DisplayName\",
  \"Status\", \"CreatedAt\", \"UpdatedAt\", \"SecurityStamp\", \"ConcurrencyStamp\")
SELECT 'burst-' || i, 'burst' || i, 'BURST' || i, 'burst' || i || '@example.test', 'BURST' || i || '@EXAMPLE.TEST', true,
  false, false, true, 0, 'B' || i, 'Burst user ' || i, 'Active', now(), now(), md5(i::text), md5(i::text)
FROM generate_series(1, $USERS) AS i;
INSERT INTO \"Permissions\" (\"Id\", \"ApplicationId\", \"Name\", \"Parameters\", \"CreatedAt\", \"UpdatedAt\")
VALUES ('00000000-0000-7000-8000-00000000b001', '$APP', 'burst.use', '{}', now(), now());
INSERT INTO \"AccessRoles\" (\"Id\", \"ApplicationId\", \"Name\", \"Delegable\", \"CreatedAt\", \"UpdatedAt\")
VALUES ('00000000-0000-7000-8000-00000000b002', '$APP', 'burst-member', false, now(), now());
INSERT INTO \"RolePermissions\" (\"RoleId\", \"PermissionId\", \"Parameters\")
VALUES ('00000000-0000-7000-8000-00000000b002', '00000000-0000-7000-8000-00000000b001', '{}');
INSERT INTO \"RoleAssignments\" (\"Id\", \"UserId\", \"RoleId\", \"ValidFrom\", \"Reason\", \"GrantedBy\", \"GrantedAt\", \"UpdatedAt\")
SELECT gen_random_uuid(), 'burst-' || i, '00000000-0000-7000-8000-00000000b002', now(), 'bench', 'bench', now(), now()
FROM generate_series(1, $USERS) AS i;
INSERT INTO \"ProvisioningOutbox\" (\"ConnectorId\", \"UserId\", \"Change\", \"CreatedAt\", \"DueAt\", \"Attempts\", \"Status\")
SELECT '$CONNECTOR', 'burst-' || i, 'bench.burst', now(), now(), 0, 'Pending' FROM generate_series(1, $USERS) AS i;
COMMIT;"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
CPU0=$(cpu_ticks)
START=$(date +%s.%N)
while [[ $(sql "SELECT count(*) FROM \"ProvisioningOutbox\"") != 0 ]]; do sleep 0.2; done
END=$(date +%s.%N)
CPU1=$(cpu_ticks)

RECEIVED=$(curl -fs "http://127.0.0.1:$RPORT/state" | sed -n 's/^{"received":\([0-9]*\),"accepted":\([0-9]*\).*/\1 \2/p')
PEAK=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$SERVER_PID/status")
ATTEMPTS=$(sql "SELECT count(*) FILTER (WHERE \"Succeeded\"), count(*) FILTER (WHERE NOT \"Succeeded\") FROM \"DeliveryAttempts\"")
python3 - "$START" "$END" "$USERS" "$CPU0" "$CPU1" "$(getconf CLK_TCK)" <<'PY'
import sys
start, end, n, cpu0, cpu1, hz = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
print(f"drained {n} changes in {end - start:.1f} s ({n / (end - start):.0f} deliveries/s)")
# CPU per delivery hardly depends on what else the machine runs: compare this figure across machines.
print(f"server CPU: {(cpu1 - cpu0) / hz:.1f} s, {(cpu1 - cpu0) / hz * 1000 / n:.2f} ms per delivery")
PY
echo "receiver: received/accepted $RECEIVED; delivery attempts ok|failed: $ATTEMPTS"
echo "server peak working set (VmHWM): $PEAK; cores: $(nproc); parallel deliveries: $PARALLEL, per connector: $PER_CONNECTOR; batch: $BATCH"
