#!/usr/bin/env bash
# Token endpoint throughput: client_credentials + client_secret_basic, RS256 JWT access tokens, on loopback.
# Builds Release, starts the server on SQLite in a temp dir (logging at Warning), warms up, then runs wrk
# RUNS times for DURATION with CONNECTIONS connections; once with IdentityHub's defaults (no token row for
# client-credentials access tokens) and once with Oidc:StoreClientCredentialsAccessTokens=true (OpenIddict's
# default: one row per token). Prints requests/s per run and the median of each.
#   RUNS=5 DURATION=10 WARMUP=20 CONNECTIONS=32 MODES="default stored" ./bench/token-endpoint.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-5}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-5391}
WARMUP=${WARMUP:-20}
MODES=${MODES:-"default stored"}
URL="http://127.0.0.1:$PORT"

if ! command -v wrk >/dev/null; then
  echo "wrk is missing: installing it with apt-get" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

WORK=$(mktemp -d /tmp/identityhub-bench.XXXXXX)
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "Building Release..." >&2
dotnet build "$ROOT/src/IdentityHub.Server" -c Release -nologo -v quiet >/dev/null
DLL="$ROOT/src/IdentityHub.Server/bin/Release/net10.0/IdentityHub.Server.dll"

CLIENT_ID=identityhub-admin
SECRET=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
BASIC=$(printf '%s:%s' "$CLIENT_ID" "$SECRET" | base64 -w0)
cat > "$WORK/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
LUA

start_server() { # $1 = store client-credentials access tokens (true/false)
  local db="$WORK/bench-$1.db"
  (cd "$WORK" && \
    ASPNETCORE_ENVIRONMENT=Production \
    Urls="$URL" \
    Database__Provider=Sqlite \
    ConnectionStrings__IdentityHub="Data Source=$db" \
    Bootstrap__AdminPassword="Bench-Admin-Password-1" \
    Bootstrap__AdminClientSecret="$SECRET" \
    Oidc__RequireHttps=false RateLimits__TokenPerClient__PermitLimit=100000000 RateLimits__TokenPerIp__PermitLimit=100000000 RateLimits__AdminApiPerClient__PermitLimit=100000000 RateLimits__AdminApiPerIp__PermitLimit=100000000 RateLimits__ScimPerClient__PermitLimit=100000000 RateLimits__ScimPerIp__PermitLimit=100000000 \
    Oidc__StoreClientCredentialsAccessTokens="$1" \
    Serilog__MinimumLevel__Default=Warning \
    exec dotnet "$DLL" >"$WORK/server-$1.log" 2>&1) &
  SERVER_PID=$!
  for _ in $(seq 1 60); do
    if curl -fsS "$URL/health/ready" >/dev/null 2>&1; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 1
  done
  echo "The server did not become ready; its log:" >&2
  cat "$WORK/server-$1.log" >&2
  exit 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

check_token() {
  local status
  status=$(curl -s -o "$WORK/token.json" -w '%{http_code}' -X POST "$URL/connect/token" \
    -H "Authorization: Basic $BASIC" -d grant_type=client_credentials)
  if [[ "$status" != 200 ]]; then
    echo "The token endpoint answered $status: $(cat "$WORK/token.json")" >&2
    exit 1
  fi
}

server_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

run_wrk() { # $1 = seconds; prints "requests/s server-CPU-ms-per-request", fails on any non-2xx or socket error
  local out before after
  before=$(server_cpu_ticks)
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${1}s" --timeout 10s -s "$WORK/token.lua" "$URL/connect/token")
  after=$(server_cpu_ticks)
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    echo "wrk saw failed requests:" >&2
    echo "$out" >&2
    exit 1
  fi
  # The server's own CPU time per request does not depend on how busy the rest of the machine is.
  awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ { total = $1 }
    /Requests\/sec/ { rps = $2 }
    END { printf "%.0f %.3f\n", rps, 1000 * ticks / hz / total }' <<<"$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A MEDIANS
for mode in $MODES; do
  store=false; [[ "$mode" == stored ]] && store=true
  echo "== $mode (Oidc:StoreClientCredentialsAccessTokens=$store): $RUNS x ${DURATION}s, $CONNECTIONS connections, $THREADS wrk threads" >&2
  start_server "$store"
  check_token
  run_wrk "$WARMUP" >/dev/null  # warm-up: tiered JIT and dynamic PGO reach their final code, pools fill
  results=(); cpus=()
  for run in $(seq 1 "$RUNS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    read -r rps cpu < <(run_wrk "$DURATION")
    results+=("$rps"); cpus+=("$cpu")
    echo "$mode run $run: $rps requests/s, server CPU $cpu ms/request (load average before: $load)"
  done
  MEDIANS[$mode]=$(printf '%s\n' "${results[@]}" | median)
  cpu_median=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  echo "$mode median: ${MEDIANS[$mode]} requests/s; server CPU median $cpu_median ms/request"
  stop_server
done

if [[ -n "${MEDIANS[default]:-}" && -n "${MEDIANS[stored]:-}" ]]; then
  awk -v a="${MEDIANS[default]}" -v b="${MEDIANS[stored]}" 'BEGIN { printf "ratio default/stored: %.1fx\n", a / b }'
fi
