#!/usr/bin/env bash
# One benchmark command: bench/run.sh [scenario...] (no scenario = all), on SQLite and on PostgreSQL (a throwaway
# cluster, removed at exit), everything built and run in Release. Each scenario is warmed up, run RUNS times, and
# reported as medians in bench/results/<UTC date>-<short commit>.md (machine header + one table); see bench/README.md.
#   RUNS=3 DURATION=10 WARMUP=10 CONNECTIONS=32 THREADS=2 DATABASES="sqlite postgresql" bench/run.sh
#   SMOKE=1 bench/run.sh      # every scenario with tiny counts; exit 1 on any error (test.sh runs this)
# Any error in a scenario marks its row FAILED and makes the exit status 1; the other scenarios still run.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL_SCENARIOS=(discovery jwks cc-rs256 cc-es256 refresh introspection userinfo signin saml
  propagation burst-webhook burst-scim csv-import cold-start rss)
usage() { echo "usage: bench/run.sh [${ALL_SCENARIOS[*]}]" >&2; exit 2; }
SCENARIOS=("$@")
((${#SCENARIOS[@]})) || SCENARIOS=("${ALL_SCENARIOS[@]}")
for s in "${SCENARIOS[@]}"; do [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] || usage; done

SMOKE=${SMOKE:-0}
if [[ "$SMOKE" == 1 ]]; then
  : "${RUNS:=1}" "${DURATION:=2}" "${WARMUP:=0}" "${FLOW_WARMUP:=0}" "${CONNECTIONS:=4}" "${SIGNIN_CONCURRENCY:=2}" "${LATENCY_N:=3}"
  : "${BACKGROUND:=5}" "${BURST:=40}" "${CSV_USERS:=40}" "${BOUND_SECONDS:=0.3}" "${IDLE_SECONDS:=1}"
fi
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
# The sign-in and SAML flows warm up longer: at 15-25 flows/s a flow runs much code few times a second, and a JIT summary
# showed tiered compilation still promoting about 100 methods a second 30-40 s into sign-in load (settled after about
# 50 s); the first 20 s of flows cost the server about 40 % more CPU than the later ones.
FLOW_WARMUP=${FLOW_WARMUP:-40}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
SIGNIN_CONCURRENCY=${SIGNIN_CONCURRENCY:-8}
LATENCY_N=${LATENCY_N:-500}      # grants + as many ends = 2 x N changes measured per target
BACKGROUND=${BACKGROUND:-50}     # other changes per second during the propagation scenario
BURST=${BURST:-10000}
CSV_USERS=${CSV_USERS:-10000}
BOUND_SECONDS=${BOUND_SECONDS:-3}
IDLE_SECONDS=${IDLE_SECONDS:-10}
DATABASES=${DATABASES:-"sqlite postgresql"}
export BENCH_ADMIN_SECRET BENCH_ADMIN_PASSWORD

ROWS="$BENCH_WORK/rows.tsv"; : >"$ROWS"
FAILED=0
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- rows of the table ----
# row SCENARIO DATABASE THROUGHPUT P50 P99 ERRORS CPU_MS RSS_MIB RATIO STATUS
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"; }
kv() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<" $2" | head -1; }
mib() { awk -v k="$1" 'BEGIN { if (k == "" || k == "-") print "-"; else printf "%.0f", k / 1024 }'; }
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "" || v == "-") print "-"; else { if (d == 0 && v < 10) d = 1; printf "%." d "f", v } }'; }
ratio() { awk -v a="$1" -v b="$2" -v what="$3" 'BEGIN { if (a == "" || a == "-" || b == "" || b <= 0) print "-"; else printf "%.2f of %s", a / b, what }'; }

# collect: per run "rps p50 p99 errors cpu_ms hwm_kib" lines in $1; writes the row (medians; errors summed).
emit() {
  local file=$1 scenario=$2 db=$3 unit=$4 bound=${5:-} bound_name=${6:-} status=${7:-ok}
  local rps p50 p99 errors cpu hwm
  rps=$(awk '{ print $1 }' "$file" | bench_median)
  p50=$(awk '{ print $2 }' "$file" | bench_median)
  p99=$(awk '{ print $3 }' "$file" | bench_median)
  errors=$(awk '{ s += $4 } END { print s + 0 }' "$file")
  cpu=$(awk '$5 != "-" { print $5 }' "$file" | bench_median)
  hwm=$(awk '{ print $6 }' "$file" | bench_median)
  ((errors == 0)) || status=FAILED
  row "$scenario" "$db" "$(fmt "$rps") $unit" "$(fmt "$p50" 1)" "$(fmt "$p99" 1)" "$errors" "$(fmt "$cpu" 3)" "$(mib "$hwm")" \
    "$(ratio "$rps" "$bound" "$bound_name")" "$status"
  [[ "$status" == ok ]]
}

# ---- machine bounds (bench/Bounds) ----
declare -A BOUND=()
measure_bounds() {
  bench_log "machine bounds (${BOUND_SECONDS}s each on $(nproc) threads)"
  local dll="$BENCH_ROOT/bench/Bounds/bin/Release/net10.0/Bounds.dll"
  if [[ "${BENCH_BUILT:-}" != 1 || ! -f "$dll" ]]; then
    dotnet build "$BENCH_ROOT/bench/Bounds" -c Release -nologo -v quiet --disable-build-servers >"$BENCH_WORK/bounds-build.log" 2>&1 \
      || { cat "$BENCH_WORK/bounds-build.log" >&2; bench_die "bench/Bounds did not build"; }
  fi
  local line
  while read -r line; do
    BOUND[$(kv name "$line")]=$(kv per_second "$line")
    echo "$line" >>"$BENCH_WORK/bounds.txt"
  done < <(dotnet "$dll" "$BOUND_SECONDS" | grep '^BOUND ')
  [[ -n "${BOUND[rsa2048]:-}" && -n "${BOUND[password]:-}" ]] || bench_die "bench/Bounds printed no bounds"
}

# ---- wrk scenarios on the running server ----
# wrk_scenario NAME DB LUA UNIT BOUND BOUND_NAME VERIFY_ALG [lua args after the sample file...]
wrk_scenario() {
  local name=$1 db=$2 lua=$3 unit=$4 bound=$5 bound_name=$6 alg=$7; shift 7
  local path
  case "$lua" in
    discovery) path=/.well-known/openid-configuration ;;
    jwks) path=/.well-known/jwks ;;
    userinfo) path=/connect/userinfo ;;
    introspection) path=/connect/introspect ;;
    *) path=/connect/token ;;
  esac
  cat "$BENCH_ROOT/bench/wrk/$lua.lua" "$BENCH_ROOT/bench/wrk/common.lua" >"$BENCH_WORK/$name.lua"
  local runs="$BENCH_WORK/$name-$db.runs" samples="$BENCH_WORK/$name-$db.samples" out cpu0 cpu1 status=ok
  : >"$runs"; : >"$samples"
  # "%RUN%" in an argument becomes the invocation's number (0 for the warm-up): refresh tokens are single use.
  if [[ "$WARMUP" != 0 ]]; then
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 10s -s "$BENCH_WORK/$name.lua" "$URL$path" -- - "${@//%RUN%/0}" >"$BENCH_WORK/warmup.out" \
      || { cat "$BENCH_WORK/warmup.out" >&2; return 1; }
    [[ "$(kv errors "$(grep '^RESULT ' "$BENCH_WORK/warmup.out")")" == 0 ]] || { cat "$BENCH_WORK/warmup.out" >&2; return 1; }
  fi
  local run
  for run in $(seq "$RUNS"); do
    bench_reset_peak
    cpu0=$(bench_cpu_ticks)
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$BENCH_WORK/$name.lua" "$URL$path" -- "$samples" "${@//%RUN%/$run}")
    cpu1=$(bench_cpu_ticks)
    local line; line=$(grep '^RESULT ' <<<"$out") || { echo "$out" >&2; return 1; }
    # A run in which nothing completed is an error too.
    echo "$(kv rps "$line") $(kv p50_ms "$line") $(kv p99_ms "$line") $(($(kv errors "$line") + ($(kv requests "$line") == 0))) $(bench_cpu_ms_per_op "$cpu0" "$cpu1" "$(kv requests "$line")") $(bench_hwm_kib)" >>"$runs"
    bench_log "$name $db run $run: $line"
  done
  if [[ -n "$alg" ]]; then
    # A sample of the answers (the first few of each wrk thread and run) must be JWTs signed with the published key.
    IDP="$URL" ALG="$alg" SAMPLES="$samples" node "$BENCH_ROOT/bench/loadclient.mjs" verify >"$BENCH_WORK/verify.out" 2>&1 \
      || { cat "$BENCH_WORK/verify.out" >&2; status=FAILED; }
    bench_log "$name $db: $(cat "$BENCH_WORK/verify.out")"
  fi
  emit "$runs" "$name" "$db" "$unit" "$bound" "$bound_name" "$status"
}

# ---- load client scenarios (sign-in, SAML) ----
flow_scenario() {
  local name=$1 db=$2 command=$3
  local runs="$BENCH_WORK/$name-$db.runs" out cpu0 cpu1 run line
  : >"$runs"
  flow() { IDP="$URL" USERNAME=admin PASSWORD="$BENCH_ADMIN_PASSWORD" CLIENT_ID="$CLIENT_ID" CLIENT_SECRET="$CLIENT_SECRET" \
    SP_KEY="$BENCH_WORK/sp.key" SP_CERT="$BENCH_WORK/sp.crt" CONCURRENCY="$SIGNIN_CONCURRENCY" DURATION="$1" \
    node "$BENCH_ROOT/bench/loadclient.mjs" "$command"; }
  [[ "$FLOW_WARMUP" == 0 ]] || flow "$FLOW_WARMUP" >/dev/null || return 1
  for run in $(seq "$RUNS"); do
    bench_reset_peak
    cpu0=$(bench_cpu_ticks)
    out=$(flow "$DURATION") || true
    cpu1=$(bench_cpu_ticks)
    line=$(grep '^RESULT ' <<<"$out") || { echo "$out" >&2; return 1; }
    # A run in which nothing completed is an error too.
    echo "$(kv rps "$line") $(kv p50_ms "$line") $(kv p99_ms "$line") $(($(kv errors "$line") + ($(kv requests "$line") == 0))) $(bench_cpu_ms_per_op "$cpu0" "$cpu1" "$(kv requests "$line")") $(bench_hwm_kib)" >>"$runs"
    bench_log "$name $db run $run: $line"
  done
  emit "$runs" "$name" "$db" "flows/s" "${BOUND[password]}" "hash bound"
}

# The built-in admin client (client credentials): cc-rs256 on the shared server, cc-es256 on its own.
ADMIN_BASIC=$(printf '%s:%s' identityhub-admin "$BENCH_ADMIN_SECRET" | base64 -w0)

# The shared server of the HTTP scenarios: RS256 (the default), one OIDC client and one SAML SP registered through the
# admin API, CONNECTIONS refresh tokens and a user access token from real code flows.
start_http_server() {
  local db=$1
  bench_server_start "http" "$db"
  local token setup
  token=$(bench_admin_token)
  [[ -f "$BENCH_WORK/sp.key" ]] || openssl req -x509 -newkey rsa:2048 -nodes -keyout "$BENCH_WORK/sp.key" -out "$BENCH_WORK/sp.crt" \
    -days 2 -subj /CN=bench-sp >/dev/null 2>&1
  setup=$(IDP="$URL" TOKEN="$token" USERNAME=admin SP_KEY="$BENCH_WORK/sp.key" SP_CERT="$BENCH_WORK/sp.crt" \
    node "$BENCH_ROOT/bench/loadclient.mjs" setup) || bench_die "setup through the admin API failed"
  CLIENT_ID=$(sed -n 's/.*"clientId":"\([^"]*\)".*/\1/p' <<<"$setup")
  CLIENT_SECRET=$(sed -n 's/.*"clientSecret":"\([^"]*\)".*/\1/p' <<<"$setup")
  CLIENT_BASIC=$(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)
}

# User tokens from real code flows: a refresh token for every connection of every wrk invocation (the warm-up and each
# run: refresh tokens are single use and a reuse revokes the whole chain, so an invocation never inherits the last one's),
# in refresh-DB-0 .. refresh-DB-RUNS; and, from one more flow whose refresh token is never used, the access token of the
# introspection and userinfo scenarios (access-DB).
user_tokens() {
  [[ -s "$BENCH_WORK/access-$1" ]] && return 0
  local all="$BENCH_WORK/all-refresh-$1" access="$BENCH_WORK/all-access-$1" k
  IDP="$URL" USERNAME=admin PASSWORD="$BENCH_ADMIN_PASSWORD" CLIENT_ID="$CLIENT_ID" CLIENT_SECRET="$CLIENT_SECRET" \
    COUNT=$((CONNECTIONS * (RUNS + 1) + 1)) OUT_REFRESH="$all" OUT_ACCESS="$access" node "$BENCH_ROOT/bench/loadclient.mjs" tokens >/dev/null
  for k in $(seq 0 "$RUNS"); do sed -n "$((k * CONNECTIONS + 1)),$(((k + 1) * CONNECTIONS))p" "$all" >"$BENCH_WORK/refresh-$1-$k"; done
  tail -1 "$access" >"$BENCH_WORK/access-$1"
}

scenario_discovery() { wrk_scenario discovery "$1" discovery "req/s" "" "" ""; }
scenario_jwks() { wrk_scenario jwks "$1" jwks "req/s" "" "" ""; }
scenario_cc-rs256() { wrk_scenario cc-rs256 "$1" client-credentials "tokens/s" "${BOUND[rsa2048]}" "RSA bound" RS256 "$ADMIN_BASIC"; }
scenario_refresh() {
  user_tokens "$1"
  wrk_scenario refresh "$1" refresh "tokens/s" "${BOUND[rsa2048]}" "RSA bound" RS256 "$CLIENT_BASIC" "$BENCH_WORK/refresh-$1-%RUN%" "$THREADS"
}
scenario_introspection() {
  user_tokens "$1"
  wrk_scenario introspection "$1" introspection "req/s" "" "" "" "$CLIENT_BASIC" "$(head -1 "$BENCH_WORK/access-$1")"
}
scenario_userinfo() { user_tokens "$1"; wrk_scenario userinfo "$1" userinfo "req/s" "" "" "" "$(head -1 "$BENCH_WORK/access-$1")"; }
scenario_signin() { flow_scenario signin "$1" signin; }
scenario_saml() { flow_scenario saml "$1" saml; }

# ES256: the signing key's algorithm is server-wide (Oidc:Keys:Algorithm, for the first key of a fresh database and for
# rotations), not per client, so this scenario has its own server and database.
scenario_cc-es256() {
  bench_server_start "es256" "$1" Oidc__Keys__Algorithm=ES256
  local alg
  alg=$(curl -fsS "$URL/.well-known/jwks" | sed -n 's/.*"alg":"\([^"]*\)".*/\1/p' | head -1)
  [[ "$alg" == ES256 ]] || { echo "the JWKS publishes $alg, not ES256" >&2; return 1; }
  curl -fsS -o /dev/null -H "Authorization: Basic $ADMIN_BASIC" -d grant_type=client_credentials "$URL/connect/token" \
    || { echo "the ES256 server refused a client credentials request" >&2; return 1; }
  wrk_scenario cc-es256 "$1" client-credentials "tokens/s" "${BOUND[p256]}" "P-256 bound" ES256 "$ADMIN_BASIC"
}

# Cold start: process start to the first 200 from /health/ready, on a fresh database, then again on that database.
# The CPU column is the server's CPU time spent by then (ms per start), the RSS column its peak resident memory by then.
scenario_cold-start() {
  local db=$1 run fresh="$BENCH_WORK/cold-fresh" existing="$BENCH_WORK/cold-existing"
  : >"$fresh"; : >"$existing"
  for run in $(seq "$RUNS"); do
    bench_server_start "cold$run" "$db"; echo "$SERVER_READY_MS $SERVER_READY_CPU_MS $(bench_hwm_kib)" >>"$fresh"
    bench_server_stop
    bench_server_start "cold$run" "$db"; echo "$SERVER_READY_MS $SERVER_READY_CPU_MS $(bench_hwm_kib)" >>"$existing"
    bench_server_stop
    bench_log "cold start $db run $run: fresh $(tail -1 "$fresh" | awk '{ print $1 " ms, CPU " $2 " ms" }')," \
      "existing $(tail -1 "$existing" | awk '{ print $1 " ms, CPU " $2 " ms" }')"
  done
  local file
  for file in fresh existing; do
    row "cold-start-$file" "$db" "-" "$(awk '{ print $1 }' "$BENCH_WORK/cold-$file" | bench_median) ms" \
      "max $(awk '{ print $1 }' "$BENCH_WORK/cold-$file" | sort -n | tail -1) ms" 0 \
      "$(awk '{ print $2 }' "$BENCH_WORK/cold-$file" | bench_median)" \
      "$(mib "$(awk '{ print $3 }' "$BENCH_WORK/cold-$file" | bench_median)")" - ok
  done
}

# Resident memory: idle (IDLE_SECONDS after ready, nothing asked), then the peak under CONNECTIONS client-credentials requests.
scenario_rss() {
  local db=$1 idle hwm run idles="$BENCH_WORK/rss-idle" peaks="$BENCH_WORK/rss-loaded"
  : >"$idles"; : >"$peaks"
  cat "$BENCH_ROOT/bench/wrk/client-credentials.lua" "$BENCH_ROOT/bench/wrk/common.lua" >"$BENCH_WORK/rss.lua"
  local basic; basic=$(printf '%s:%s' identityhub-admin "$BENCH_ADMIN_SECRET" | base64 -w0)
  for run in $(seq "$RUNS"); do
    bench_server_start "rss$run" "$db"
    sleep "$IDLE_SECONDS"
    idle=$(bench_rss_kib)
    local out; out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$BENCH_WORK/rss.lua" "$URL/connect/token" -- - "$basic")
    [[ "$(kv errors "$(grep '^RESULT ' <<<"$out")")" == 0 ]] || { echo "$out" >&2; return 1; }
    hwm=$(bench_hwm_kib)
    bench_server_stop
    echo "$idle" >>"$idles"; echo "$hwm" >>"$peaks"
  done
  row rss-idle "$db" "-" "-" "-" 0 - "$(mib "$(bench_median <"$idles")")" - ok
  row rss-loaded "$db" "-" "-" "-" 0 - "$(mib "$(bench_median <"$peaks")")" - ok
}

# Scenarios run by their own scripts (each sources lib.sh and prints RESULT lines; PGURL and BENCH_BUILT are exported).
child_rows() { # SCENARIO_PREFIX DB FILE: turns the script's RESULT lines (name=... throughput=...) into rows
  local prefix=$2 db=$3 line status
  while read -r line; do
    status=ok; [[ "$(kv errors "$line")" == 0 ]] || status=FAILED
    local tp; tp=$(kv throughput "$line")
    row "$prefix$(kv name "$line")" "$db" "${tp//_/ }" "$(kv p50_ms "$line")" "$(kv p99_ms "$line")" "$(kv errors "$line")" \
      "$(kv cpu_ms "$line")" "$(mib "$(kv peak_kib "$line")")" - "$status"
    [[ "$status" == ok ]] || return 1
  done < <(grep '^RESULT ' "$1")
}
scenario_propagation() {
  DATABASE=$1 N="$LATENCY_N" BACKGROUND="$BACKGROUND" "$BENCH_ROOT/bench/propagation-latency.sh" >"$BENCH_WORK/propagation.out" \
    || { cat "$BENCH_WORK/propagation.out" >&2; return 1; }
  child_rows "$BENCH_WORK/propagation.out" "propagation-" "$1"
}
burst() {
  DATABASE=$1 TARGET=$2 USERS="$BURST" "$BENCH_ROOT/bench/provisioning-burst.sh" >"$BENCH_WORK/burst.out" \
    || { cat "$BENCH_WORK/burst.out" >&2; return 1; }
  child_rows "$BENCH_WORK/burst.out" "" "$1"
}
scenario_burst-webhook() { burst "$1" webhook; }
scenario_burst-scim() { burst "$1" scim; }
scenario_csv-import() {
  DATABASE=$1 USERS="$CSV_USERS" "$BENCH_ROOT/bench/csv-import.sh" >"$BENCH_WORK/csv.out" || { cat "$BENCH_WORK/csv.out" >&2; return 1; }
  child_rows "$BENCH_WORK/csv.out" "" "$1"
}

# Runs one scenario in a subshell with `set -e` in force; processes it started are stopped when it ends.
HTTP_SCENARIOS=" discovery jwks cc-rs256 refresh introspection userinfo signin saml "
run_scenario() {
  local scenario=$1 db=$2 rc
  bench_log "== $scenario on $db"
  set +e
  (
    set -e
    BENCH_PIDS=()
    trap 'bench_stop_pids' EXIT
    "scenario_$scenario" "$db"
  )
  rc=$?
  set -e
  if ((rc != 0)); then
    FAILED=1
    grep -q "^$scenario"$'\t'"$db"$'\t' "$ROWS" 2>/dev/null || grep -q "^$scenario-[a-z-]*"$'\t'"$db"$'\t' "$ROWS" 2>/dev/null \
      || row "$scenario" "$db" - - - - - - - FAILED
    bench_log "$scenario on $db FAILED"
  fi
}

# ---- the run (one function, so bash has read the whole file before running any of it) ----
main() {
  bench_require_wrk
  bench_require_node_modules
  bench_build
  measure_bounds
  [[ " $DATABASES " == *" postgresql "* ]] && bench_postgres
  for db in $DATABASES; do
    needs_http=0
    for s in "${SCENARIOS[@]}"; do [[ "$HTTP_SCENARIOS" == *" $s "* ]] && needs_http=1; done
    if ((needs_http)); then start_http_server "$db"; fi
    for s in "${SCENARIOS[@]}"; do
      run_scenario "$s" "$db"
    done
    bench_server_stop
  done

  # ---- the report ----
  COMMIT=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  DIRTY=""; [[ -z "$(git -C "$BENCH_ROOT" status --porcelain 2>/dev/null)" ]] || DIRTY=" (with uncommitted changes)"
  if [[ "$SMOKE" == 1 ]]; then OUT_DIR=${BENCH_OUT:-$BENCH_ROOT/test-artifacts/bench}; else OUT_DIR=${BENCH_OUT:-$BENCH_ROOT/bench/results}; fi
  mkdir -p "$OUT_DIR"
  SUFFIX=""; [[ "$SMOKE" != 1 ]] || SUFFIX=-smoke
  REPORT="$OUT_DIR/$(date -u +%Y-%m-%d)-$COMMIT$SUFFIX.md"
  {
    echo "# Benchmark $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT$DIRTY${SUFFIX:+, SMOKE (tiny counts: not figures)}"
    echo
    echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
    echo "- RAM: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); kernel $(uname -r)"
    echo "- .NET: runtime $(dotnet --list-runtimes | sed -n 's/^Microsoft.NETCore.App \([^ ]*\).*/\1/p' | tail -1), SDK $(dotnet --version)"
    echo "- load average before the run: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- settings: RUNS=$RUNS (medians), DURATION=${DURATION}s, WARMUP=${WARMUP}s (flows ${FLOW_WARMUP}s), wrk $THREADS threads x $CONNECTIONS connections," \
      "sign-in/SAML $SIGNIN_CONCURRENCY flows at a time, propagation N=$LATENCY_N with $BACKGROUND background changes/s," \
      "burst $BURST changes, CSV $CSV_USERS users"
    echo "- machine bounds on $(nproc) threads: RSA-2048 ${BOUND[rsa2048]:-?} signatures/s, P-256 ${BOUND[p256]:-?} signatures/s," \
      "password hashes ${BOUND[password]:-?}/s ($(sed -n 's/.*name=password.*detail=//p' "$BENCH_WORK/bounds.txt"))"
    echo
    echo "| scenario | database | throughput | p50 (ms) | p99 (ms) | errors | server CPU per op (ms) | peak RSS (MiB) | ratio to bound | status |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' "$ROWS"
  } >"$REPORT"
  cat "$REPORT"
  echo "report: $REPORT" >&2
  if ((FAILED)) || grep -q $'\tFAILED$' "$ROWS"; then echo "bench: some scenarios FAILED" >&2; exit 1; fi
}
main
exit
