#!/usr/bin/env bash
# SCIM inbound load: an HR system's first load pushed into IdentityHub's SCIM server, one POST /Users per person,
# PARALLEL requests at a time (bench/scim-inbound.mjs), then a manager PATCH for every tenth person.
# Builds Release, starts the server on a fresh PostgreSQL database (or SQLite with DB=sqlite) with logging at Warning,
# creates a department and a SCIM source for it through the admin API, runs the load, and prints the time, the
# requests per second, p50/p99 per request, the server's CPU time per person and its peak working set (VmHWM).
# Fails when any request did not get 201/200 or the directory does not hold exactly USERS new people afterwards.
#   USERS=10000 PARALLEL=8 PGURL=postgresql://postgres@127.0.0.1:55432 ./bench/scim-inbound.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
USERS=${USERS:-10000}
PARALLEL=${PARALLEL:-8}
PORT=${PORT:-5393}
DB_KIND=${DB:-postgresql}
PGURL=${PGURL:-postgresql://postgres@127.0.0.1:55432}
PSQL=${PSQL:-/usr/lib/postgresql/15/bin/psql}
DB="ih_scim_$$"
URL="http://127.0.0.1:$PORT"
SECRET="scim-bench-admin-client-secret-0123456789abcdef"

WORK=$(mktemp -d /tmp/identityhub-scim.XXXXXX)
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  [[ "$DB_KIND" == sqlite ]] || "$PSQL" "$PGURL/postgres" -qAtc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "Building Release..." >&2
dotnet build "$ROOT/src/IdentityHub.Server" -c Release -nologo -v quiet >/dev/null

if [[ "$DB_KIND" == sqlite ]]; then
  DATABASE_ENV=(Database__Provider=Sqlite ConnectionStrings__IdentityHub="Data Source=$WORK/identityhub.db")
else
  PGHOSTPORT=${PGURL#postgresql://postgres@}
  DATABASE_ENV=(Database__Provider=PostgreSql ConnectionStrings__IdentityHub="Host=${PGHOSTPORT%:*};Port=${PGHOSTPORT#*:};Username=postgres;Database=$DB")
fi
env "${DATABASE_ENV[@]}" Bootstrap__AdminPassword="Scim-Bench-Password-1" Bootstrap__AdminClientSecret="$SECRET" Oidc__RequireHttps=false RateLimits__TokenPerClient__PermitLimit=100000000 RateLimits__TokenPerIp__PermitLimit=100000000 RateLimits__AdminApiPerClient__PermitLimit=100000000 RateLimits__AdminApiPerIp__PermitLimit=100000000 RateLimits__ScimPerClient__PermitLimit=100000000 RateLimits__ScimPerIp__PermitLimit=100000000 \
  Serilog__MinimumLevel__Default=Warning \
  dotnet "$ROOT/src/IdentityHub.Server/bin/Release/net10.0/IdentityHub.Server.dll" --urls "$URL" >"$WORK/server.log" 2>&1 & SERVER_PID=$!
for _ in $(seq 300); do curl -fs "$URL/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done

TOKEN=$(curl -fs -u "identityhub-admin:$SECRET" -d grant_type=client_credentials -d scope=identityhub.admin "$URL/connect/token" \
  | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' "$@"; }
DEPT=$(api -d "{\"code\":\"HR-$$\",\"name\":\"Company $$\"}" "$URL/api/admin/v1/departments" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -1)
SOURCE_JSON=$(api -d "{\"name\":\"HR bench $$\",\"kind\":\"scim\",\"subtrees\":[\"$DEPT\"]}" "$URL/api/admin/v1/sources")
SCIM_TOKEN=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' <<<"$SOURCE_JSON")
[[ -n "$SCIM_TOKEN" ]] || { echo "could not create the SCIM source: $SOURCE_JSON" >&2; exit 1; }
BEFORE=$(api "$URL/api/admin/v1/users?pageSize=1" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
CPU0=$(cpu_ticks)
RESULT=$(SCIM_URL="$URL/scim/v2" SCIM_TOKEN="$SCIM_TOKEN" USERS="$USERS" PARALLEL="$PARALLEL" DEPARTMENT="$DEPT" node "$ROOT/bench/scim-inbound.mjs") \
  || { echo "load failed: $RESULT" >&2; tail -20 "$WORK/server.log" >&2; exit 1; }
CPU1=$(cpu_ticks)
AFTER=$(api "$URL/api/admin/v1/users?pageSize=1" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
PEAK=$(awk '/VmHWM/ {print $2 " " $3}' "/proc/$SERVER_PID/status")
echo "$RESULT"
python3 - "$CPU0" "$CPU1" "$(getconf CLK_TCK)" "$USERS" <<'PY'
import sys
cpu0, cpu1, hz, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"server CPU: {(cpu1 - cpu0) / hz:.1f} s, {(cpu1 - cpu0) / hz * 1000 / n:.2f} ms per person (create + a tenth patched)")
PY
echo "people in the directory: $BEFORE before, $AFTER after; server peak working set (VmHWM): $PEAK; cores: $(nproc); database: $DB_KIND"
[[ $((AFTER - BEFORE)) == "$USERS" ]] || { echo "expected $USERS new people, found $((AFTER - BEFORE))" >&2; exit 1; }
