# Shared by every benchmark script (source it; bash only). What each scenario needs and none should repeat:
#  - one Release build of the server, published as the README deploys it (framework-dependent for linux-x64, ReadyToRun)
#    (bench_build, once per process tree: BENCH_BUILT=1 is exported);
#  - a database: a fresh SQLite file in the work directory, or a database on a throwaway PostgreSQL cluster
#    (initdb as postgres in a temp dir on a random port, like test.sh; PGURL=postgresql://postgres@host:port uses an
#    existing server instead, where each script's database is dropped at exit);
#  - the server started from the published dll, waited for until /health/ready answers 200 (the time it took is kept:
#    cold start), its CPU time and resident memory read from /proc;
#  - node peers from tests/interop (webhook receiver, SCIM server) on free ports;
#  - one cleanup on every exit path: every process started here is stopped by its id, the cluster removed.
# shellcheck shell=bash

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_RID=${BENCH_RID:-linux-x64}
# BENCH_BUILT=1 BENCH_DLL=<a copy of an earlier build> runs that build instead: old and new code back to back.
BENCH_DLL=${BENCH_DLL:-"$BENCH_ROOT/src/IdentityHub.Server/bin/Release/net10.0/$BENCH_RID/publish/IdentityHub.Server.dll"}
BENCH_PGBIN=${BENCH_PGBIN:-/usr/lib/postgresql/15/bin}
BENCH_WORK=$(mktemp -d /tmp/identityhub-bench.XXXXXX)
BENCH_PIDS=()          # every background process started through this library
BENCH_PGTMP=""         # the throwaway cluster's directory, when this process created one
BENCH_PG_DATABASES=()  # databases created on an existing server (PGURL), dropped at exit
BENCH_ADMIN_SECRET="bench-admin-client-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
BENCH_ADMIN_PASSWORD="Bench-Admin-Password-1"
SERVER_PID=""; URL=""; SERVER_LOG=""; SERVER_READY_MS=""; SERVER_READY_CPU_MS=""

# Stops every process started through this library (by its id), and waits for them.
bench_stop_pids() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  BENCH_PIDS=()
}

# On a failed exit, the server logs' errors go to stderr before the work directory is removed.
bench_show_server_errors() {
  local log
  for log in "$BENCH_WORK"/server-*.log; do
    [[ -f "$log" ]] || continue
    if grep -qE '(ERR|FTL)\]|Unhandled exception' "$log"; then
      echo "--- errors in $(basename "$log") (the last 60 lines of errors and what follows each):" >&2
      grep -E -A6 '(ERR|FTL)\]|Unhandled exception' "$log" | tail -n 60 >&2
    fi
  done
}

bench_cleanup() {
  local rc=$?
  ((rc == 0)) || bench_show_server_errors
  bench_stop_pids
  if [[ -n "$BENCH_PGTMP" && -d "$BENCH_PGTMP" ]]; then
    runuser -u postgres -- "$BENCH_PGBIN/pg_ctl" -D "$BENCH_PGTMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$BENCH_PGTMP"
  elif [[ -n "${PGURL:-}" ]]; then
    local db
    for db in "${BENCH_PG_DATABASES[@]}"; do
      [[ "${BENCH_KEEP_WORK:-}" != 1 ]] || { echo "bench: database kept: $db" >&2; continue; }
      "$BENCH_PGBIN/psql" "$PGURL/postgres" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
  fi
  # BENCH_KEEP_WORK=1 (to look into a failed run): the work directory (server logs) and, on an existing server (PGURL), the PostgreSQL databases stay.
  if [[ "${BENCH_KEEP_WORK:-}" == 1 ]]; then echo "bench: work directory kept: $BENCH_WORK" >&2; else rm -rf "$BENCH_WORK"; fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
bench_die() { echo "bench: $*" >&2; exit 1; }

bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_require_wrk() {
  command -v wrk >/dev/null && return 0
  bench_log "wrk is missing: installing it with apt-get"
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; } \
    || bench_die "could not install wrk"
}

bench_require_node_modules() {
  [[ -d "$BENCH_ROOT/tests/interop/node_modules" ]] \
    || (cd "$BENCH_ROOT/tests/interop" && npm ci --no-audit --no-fund --loglevel=error) || bench_die "npm ci failed"
}

# Release build of the server, once (exported BENCH_BUILT=1 lets child scripts skip it): published the way the README's
# "Production notes" deploy it, framework-dependent for BENCH_RID with ReadyToRun code (the server's csproj turns
# PublishReadyToRun on whenever a runtime identifier is given), so cold start and the first requests are the deployed ones.
bench_build() {
  [[ "${BENCH_BUILT:-}" == 1 && -f "$BENCH_DLL" ]] && return 0
  bench_log "building Release (publish -r $BENCH_RID, ReadyToRun)"
  dotnet publish "$BENCH_ROOT/src/IdentityHub.Server" -c Release -r "$BENCH_RID" --self-contained false -nologo -v quiet \
      --disable-build-servers >"$BENCH_WORK/build.log" 2>&1 \
    || { cat "$BENCH_WORK/build.log" >&2; bench_die "the Release build failed"; }
  export BENCH_BUILT=1
}

# PostgreSQL for this process: PGURL when given (an existing server), else a throwaway cluster as test.sh makes one.
# Exports PGURL (postgresql://postgres@127.0.0.1:PORT) so child scripts use the same cluster.
bench_postgres() {
  [[ -n "${PGURL:-}" ]] && return 0
  [[ $EUID -eq 0 ]] || bench_die "run as root (the throwaway cluster is created as postgres), or set PGURL"
  dpkg -s postgresql-15 >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq postgresql-15 >/dev/null; } \
    || bench_die "could not install postgresql-15"
  local port
  port=$(bench_free_port)
  BENCH_PGTMP=$(mktemp -d /tmp/pgbench.XXXXXX)
  chown postgres:postgres "$BENCH_PGTMP"
  runuser -u postgres -- "$BENCH_PGBIN/initdb" -D "$BENCH_PGTMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$BENCH_PGTMP/initdb.log" 2>&1 || { cat "$BENCH_PGTMP/initdb.log" >&2; bench_die "initdb failed"; }
  runuser -u postgres -- "$BENCH_PGBIN/pg_ctl" -D "$BENCH_PGTMP/data" -l "$BENCH_PGTMP/pg.log" -w -t 60 start \
    -o "-p $port -k $BENCH_PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" >/dev/null \
    || { cat "$BENCH_PGTMP/pg.log" >&2; bench_die "PostgreSQL did not start"; }
  export PGURL="postgresql://postgres@127.0.0.1:$port"
  bench_log "throwaway PostgreSQL cluster on 127.0.0.1:$port"
}

bench_psql() { "$BENCH_PGBIN/psql" "$PGURL/$1" -qAtc "$2"; }

# Every rate limit far above what a benchmark sends (the limits are tested elsewhere; here they would be the bound).
BENCH_RATE_LIMITS=()
for rule in SignInPerAccount SignInPerIp SignInFailuresPerAccountAndIp TokenPerClient TokenPerIp AdminApiPerClient AdminApiPerIp \
    ScimPerClient ScimPerIp; do
  BENCH_RATE_LIMITS+=("RateLimits__${rule}__PermitLimit=100000000")
done

# The connection string of database NAME for DB (sqlite | postgresql); the same NAME gives the same database again.
bench_connection_string() {
  local name=$1 db=$2
  if [[ "$db" == sqlite ]]; then
    echo "Data Source=$BENCH_WORK/$name.db"
  else
    local hostport=${PGURL#postgresql://postgres@}
    echo "Host=${hostport%:*};Port=${hostport#*:};Username=postgres;Database=ihb_${name//[^a-zA-Z0-9_]/_}_$$;Maximum Pool Size=100"
  fi
}

# bench_server_start NAME DB [Var=value...]: starts the Release server on database NAME (fresh the first time, existing
# the next), Production environment, Serilog at Warning, plain HTTP on a free loopback port. Sets SERVER_PID, URL,
# SERVER_LOG, SERVER_READY_MS (process start to the first 200 from /health/ready, in ms) and SERVER_READY_CPU_MS (the
# server's CPU time, user + system, spent by then: the cold start's figure that hardly depends on the machine's load).
bench_server_start() {
  local name=$1 db=$2; shift 2
  local port provider cs
  port=$(bench_free_port)
  URL="http://127.0.0.1:$port"
  SERVER_LOG="$BENCH_WORK/server-$name-$(date +%s%N).log"
  provider=Sqlite; [[ "$db" == postgresql ]] && provider=PostgreSql
  cs=$(bench_connection_string "$name" "$db")
  if [[ "$db" == postgresql && -z "$BENCH_PGTMP" ]]; then
    BENCH_PG_DATABASES+=("ihb_${name//[^a-zA-Z0-9_]/_}_$$")
  fi
  local t0 t1
  t0=$(date +%s%N)
  # The receivers listen on 127.0.0.1 (an operator lists such targets in Outbound:AllowedNetworks); the samlify SP signs
  # its requests (its metadata must then want them signed); the load client signs in as the bootstrap admin with a
  # password only (a second factor per sign-in would be a scenario of its own).
  # Its own empty folder as content root: the host watches the content root (appsettings.json reload), so a SQLite file
  # or a log written there would wake that watcher at every write (inotify), which then cost the server more than some
  # of the work measured.
  mkdir -p "$BENCH_WORK/content-root"
  (cd "$BENCH_WORK/content-root" && exec env ASPNETCORE_ENVIRONMENT=Production DOTNET_CLI_TELEMETRY_OPTOUT=1 \
      Database__Provider="$provider" ConnectionStrings__IdentityHub="$cs" \
      Bootstrap__AdminPassword="$BENCH_ADMIN_PASSWORD" Bootstrap__AdminClientSecret="$BENCH_ADMIN_SECRET" \
      Oidc__RequireHttps=false Serilog__MinimumLevel__Default=Warning "${BENCH_RATE_LIMITS[@]}" \
      Outbound__AllowedNetworks__0=127.0.0.1 Saml__RequireSignedAuthnRequests=true Account__Mfa__RequireForAdministrators=false "$@" \
      dotnet "$BENCH_DLL" --urls "$URL" >"$SERVER_LOG" 2>&1) &
  SERVER_PID=$!
  BENCH_PIDS+=("$SERVER_PID")
  local deadline=$((SECONDS + ${BENCH_READY_TIMEOUT:-600}))
  until curl -fs -o /dev/null "$URL/health/ready" 2>/dev/null; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null || ((SECONDS > deadline)); then
      cat "$SERVER_LOG" >&2
      bench_die "the server ($name, $db) did not become ready"
    fi
    sleep 0.05
  done
  t1=$(date +%s%N)
  SERVER_READY_MS=$(((t1 - t0) / 1000000))
  SERVER_READY_CPU_MS=$(awk -v t="$(bench_cpu_ticks)" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", 1000 * t / hz }')
}

bench_server_stop() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# The server's CPU time (user + system) in clock ticks, its resident set now and its peak (VmHWM), in KiB.
bench_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${1:-$SERVER_PID}/stat"; }
bench_rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/${1:-$SERVER_PID}/status"; }
bench_hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/${1:-$SERVER_PID}/status"; }
# Resets VmHWM to the current RSS (Linux >= 4.0), so the next reading is the peak of what follows.
bench_reset_peak() { echo 5 >"/proc/${1:-$SERVER_PID}/clear_refs" 2>/dev/null || true; }
# Milliseconds of server CPU per operation between two tick readings.
bench_cpu_ms_per_op() { awk -v t=$(($2 - $1)) -v hz="$(getconf CLK_TCK)" -v n="$3" 'BEGIN { if (n > 0) printf "%.3f", 1000 * t / hz / n; else print "-" }'; }

# An admin API bearer token (client credentials of the bootstrap admin client).
bench_admin_token() {
  curl -fsS -u "identityhub-admin:$BENCH_ADMIN_SECRET" -d grant_type=client_credentials -d scope=identityhub.admin \
    "$URL/connect/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

# bench_node_peer NAME SCRIPT [Var=value...]: starts tests/interop/SCRIPT on a free port; sets PEER_PID and PEER_PORT.
bench_node_peer() {
  local name=$1 script=$2; shift 2
  local out="$BENCH_WORK/$name.out"
  (cd "$BENCH_ROOT/tests/interop" && exec env PORT=0 "$@" node "$script" >"$out" 2>&1) &
  PEER_PID=$!
  BENCH_PIDS+=("$PEER_PID")
  local _
  for _ in $(seq 200); do grep -q '"port"' "$out" 2>/dev/null && break; sleep 0.05; done
  PEER_PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$out" | head -1)
  [[ -n "$PEER_PORT" ]] || { cat "$out" >&2; bench_die "$script did not start"; }
}

bench_median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
