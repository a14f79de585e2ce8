#!/usr/bin/env bash
# Token endpoint throughput: client_credentials + client_secret_basic, JWT access tokens, on loopback, comparing
# IdentityHub's default (no token row for client-credentials access tokens) with Oidc:StoreClientCredentialsAccessTokens=
# true (OpenIddict's default: one row per token). bench/run.sh's cc-rs256 / cc-es256 scenarios measure the default on
# both databases; this script keeps the comparison of the two modes. Builds Release, starts the server on a fresh SQLite
# file per mode (logging at Warning), warms up, runs wrk RUNS times for DURATION with CONNECTIONS connections; a sample of
# the tokens is verified against the published JWKS. Prints requests/s, p50/p99, server CPU per request per run and medians.
#   RUNS=5 DURATION=10 WARMUP=20 CONNECTIONS=32 MODES="default stored" ALG=RS256 ./bench/token-endpoint.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=${RUNS:-5}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-20}
MODES=${MODES:-"default stored"}
ALG=${ALG:-RS256}

bench_require_wrk
bench_require_node_modules
bench_build
BASIC=$(printf '%s:%s' identityhub-admin "$BENCH_ADMIN_SECRET" | base64 -w0)
cat "$BENCH_ROOT/bench/wrk/client-credentials.lua" "$BENCH_ROOT/bench/wrk/common.lua" >"$BENCH_WORK/token.lua"
for mode in $MODES; do
  store=false; [[ "$mode" == stored ]] && store=true
  bench_log "$mode (Oidc:StoreClientCredentialsAccessTokens=$store, $ALG): $RUNS x ${DURATION}s, $CONNECTIONS connections"
  bench_server_start "token-$mode" sqlite Oidc__StoreClientCredentialsAccessTokens="$store" Oidc__Keys__Algorithm="$ALG"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 10s -s "$BENCH_WORK/token.lua" "$URL/connect/token" -- - "$BASIC" >/dev/null
  : >"$BENCH_WORK/samples"; rates=(); cpus=()
  for run in $(seq "$RUNS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    cpu0=$(bench_cpu_ticks)
    line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$BENCH_WORK/token.lua" "$URL/connect/token" \
      -- "$BENCH_WORK/samples" "$BASIC" | grep '^RESULT ')
    cpu1=$(bench_cpu_ticks)
    [[ "$line" == *" errors=0 "* ]] || bench_die "wrk saw failed requests: $line"
    rps=$(sed -n 's/.* rps=\([^ ]*\).*/\1/p' <<<"$line"); requests=$(sed -n 's/.* requests=\([^ ]*\).*/\1/p' <<<"$line")
    cpu=$(bench_cpu_ms_per_op "$cpu0" "$cpu1" "$requests")
    rates+=("$rps"); cpus+=("$cpu")
    echo "$mode run $run: $line server_cpu_ms=$cpu (load average before: $load)"
  done
  IDP="$URL" ALG="$ALG" SAMPLES="$BENCH_WORK/samples" node "$BENCH_ROOT/bench/loadclient.mjs" verify >&2
  echo "$mode median: $(printf '%s\n' "${rates[@]}" | bench_median) requests/s; server CPU median $(printf '%s\n' "${cpus[@]}" | bench_median) ms/request"
  bench_server_stop
done
