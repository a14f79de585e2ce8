#!/usr/bin/env bash
# Propagation latency: "admin API call returned -> the target has it", for a webhook connector (tests/interop/
# webhook-receiver.mjs, every message verified with `standardwebhooks`) and a SCIM connector (tests/interop/
# scim-server.mjs, scimmy). Builds Release, starts the server on SQLite in a temp dir (or on a fresh PostgreSQL
# database with DATABASE=postgresql, PGURL as for provisioning-burst.sh; logging at Warning, Provisioning:PollInterval
# at its default), then bench/propagation-latency.mjs grants a role to N users one after the other through the admin
# API and ends each assignment, waiting each time until the target has the change. Prints p50/p90/p99/max per kind and
# change, measured from the API's answer and from the request being sent, using the target's own record of the change.
#   N=200 KINDS=webhook,scim DATABASE=sqlite ./bench/propagation-latency.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-200}
KINDS=${KINDS:-webhook,scim}
DATABASE=${DATABASE:-sqlite}
PORT=${PORT:-5393}
PGURL=${PGURL:-postgresql://postgres@127.0.0.1:55432}
PSQL=${PSQL:-/usr/lib/postgresql/15/bin/psql}
URL="http://127.0.0.1:$PORT"
SECRET="latency-admin-client-secret-0123456789abcdef012"
SCIM_TOKEN="latency-scim-bearer-token-0123456789"
DB="ih_latency_$$"

WORK=$(mktemp -d /tmp/identityhub-latency.XXXXXX)
SERVER_PID=""; RECEIVER_PID=""; SCIM_PID=""
cleanup() {
  for pid in "$SERVER_PID" "$RECEIVER_PID" "$SCIM_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  if [[ "$DATABASE" == postgresql ]]; then
    "$PSQL" "$PGURL/postgres" -qAtc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "Building Release..." >&2
dotnet build "$ROOT/src/IdentityHub.Server" -c Release -nologo -v quiet >/dev/null
[[ -d "$ROOT/tests/interop/node_modules" ]] || (cd "$ROOT/tests/interop" && npm ci --no-audit --no-fund --loglevel=error)

# PORT=0: each takes any free port and prints it first (an exported PORT is the server's).
(cd "$ROOT/tests/interop" && PORT=0 exec node webhook-receiver.mjs >"$WORK/receiver.out" 2>&1) & RECEIVER_PID=$!
(cd "$ROOT/tests/interop" && PORT=0 SCIM_TOKEN="$SCIM_TOKEN" exec node scim-server.mjs >"$WORK/scim.out" 2>&1) & SCIM_PID=$!
for _ in $(seq 100); do [[ -s "$WORK/receiver.out" && -s "$WORK/scim.out" ]] && break; sleep 0.1; done
RPORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/receiver.out" | head -1)
SPORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/scim.out" | head -1)

if [[ "$DATABASE" == postgresql ]]; then
  PGHOSTPORT=${PGURL#postgresql://postgres@}
  export Database__Provider=PostgreSql ConnectionStrings__IdentityHub="Host=${PGHOSTPORT%:*};Port=${PGHOSTPORT#*:};Username=postgres;Database=$DB"
else
  export Database__Provider=Sqlite ConnectionStrings__IdentityHub="Data Source=$WORK/latency.db"
fi
(cd "$WORK" && ASPNETCORE_ENVIRONMENT=Production Bootstrap__AdminPassword="Latency-Admin-Password-1" Bootstrap__AdminClientSecret="$SECRET" \
  Oidc__RequireHttps=false RateLimits__TokenPerClient__PermitLimit=100000000 RateLimits__TokenPerIp__PermitLimit=100000000 RateLimits__AdminApiPerClient__PermitLimit=100000000 RateLimits__AdminApiPerIp__PermitLimit=100000000 RateLimits__ScimPerClient__PermitLimit=100000000 RateLimits__ScimPerIp__PermitLimit=100000000 Serilog__MinimumLevel__Default=Warning \
  exec dotnet "$ROOT/src/IdentityHub.Server/bin/Release/net10.0/IdentityHub.Server.dll" --urls "$URL" >"$WORK/server.log" 2>&1) & SERVER_PID=$!
for _ in $(seq 300); do curl -fs "$URL/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$URL/health/ready" >/dev/null || { echo "The server did not become ready; its log:" >&2; cat "$WORK/server.log" >&2; exit 1; }

TOKEN=$(curl -fs -u "identityhub-admin:$SECRET" -d grant_type=client_credentials -d scope=identityhub.admin "$URL/connect/token" \
  | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
echo "Measuring $N grants and $N ends per kind ($KINDS) on $DATABASE, one change at a time..." >&2
IDP="$URL" TOKEN="$TOKEN" RECEIVER="http://127.0.0.1:$RPORT" SCIM="http://127.0.0.1:$SPORT" SCIM_TOKEN="$SCIM_TOKEN" N="$N" KINDS="$KINDS" \
  node "$ROOT/bench/propagation-latency.mjs"
echo "database: $DATABASE; cores: $(nproc); load average before the end: $(cut -d' ' -f1-3 /proc/loadavg)"
