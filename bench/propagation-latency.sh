#!/usr/bin/env bash
# Propagation latency: "admin API call returned -> the target has it", for a webhook connector (tests/interop/
# webhook-receiver.mjs, every message verified with `standardwebhooks`) and a SCIM connector (tests/interop/
# scim-server.mjs, scimmy). Builds Release, starts the server on a fresh SQLite file (or DATABASE=postgresql: a throwaway
# cluster, or PGURL), logging at Warning, Provisioning:PollInterval at its default; then bench/propagation-latency.mjs
# grants a role to N users one after the other through the admin API and ends each assignment, waiting each time until
# the target has the change, while BACKGROUND other changes per second (other users granted the same role) go on.
# Prints p50/p90/p99/max per kind and change (JSON) and one RESULT line per kind (grants and ends together) for run.sh.
#   N=200 BACKGROUND=50 KINDS=webhook,scim DATABASE=sqlite ./bench/propagation-latency.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${N:-200}
BACKGROUND=${BACKGROUND:-0}
KINDS=${KINDS:-webhook,scim}
DATABASE=${DATABASE:-sqlite}
SCIM_TOKEN="latency-scim-bearer-token-0123456789"

bench_build
bench_require_node_modules
[[ "$DATABASE" == postgresql ]] && bench_postgres
# Node's default keep-alive (5 s), as in provisioning-burst.sh.
bench_node_peer receiver webhook-receiver.mjs KEEPALIVE_MS=5000; RPORT=$PEER_PORT
bench_node_peer scim scim-server.mjs SCIM_TOKEN="$SCIM_TOKEN"; SPORT=$PEER_PORT
bench_server_start latency "$DATABASE"
TOKEN=$(bench_admin_token)
bench_log "measuring $N grants and $N ends per kind ($KINDS) on $DATABASE, $BACKGROUND background changes/s"
CPU0=$(bench_cpu_ticks)
IDP="$URL" TOKEN="$TOKEN" RECEIVER="http://127.0.0.1:$RPORT" SCIM="http://127.0.0.1:$SPORT" SCIM_TOKEN="$SCIM_TOKEN" N="$N" \
  KINDS="$KINDS" BACKGROUND="$BACKGROUND" node "$BENCH_ROOT/bench/propagation-latency.mjs" | tee "$BENCH_WORK/latency.out"
CPU1=$(bench_cpu_ticks)
bench_log "database: $DATABASE; cores: $(nproc); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg);" \
  "server CPU $(bench_cpu_ms_per_op "$CPU0" "$CPU1" 1) ms in all; peak working set $(bench_hwm_kib) KiB"
# One RESULT line per kind for run.sh: the changes measured (grants and ends together) from the API's answer.
python3 - "$BENCH_WORK/latency.out" "$(bench_hwm_kib)" <<'PY'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for kind in dict.fromkeys(r["kind"] for r in rows):
    values = sorted(v for r in rows if r["kind"] == kind and r["change"] in ("grant", "end") for v in r["values"])
    errors = sum(r.get("errors", 0) for r in rows if r["kind"] == kind and r["change"] == "background")
    pct = lambda p: values[min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))]
    print(f"RESULT name={kind} throughput={len(values)}_changes p50_ms={pct(50)} p99_ms={pct(99)} errors={errors} cpu_ms=- peak_kib={sys.argv[2]}")
PY
