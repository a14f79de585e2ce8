#!/usr/bin/env bash
# SCIM inbound load: an HR system's first load pushed into IdentityHub's SCIM server, one POST /Users per person,
# PARALLEL requests at a time (bench/scim-inbound.mjs), then a manager PATCH for every tenth person.
# Builds Release, starts the server (bench/lib.sh) on a fresh PostgreSQL database (or SQLite with DB=sqlite) with logging at Warning,
# creates a department and a SCIM source for it through the admin API, runs the load, and prints the time, the
# requests per second, p50/p99 per request, the server's CPU time per person and its peak working set (VmHWM).
# Fails when any request did not get 201/200 or the directory does not hold exactly USERS new people afterwards.
#   USERS=10000 PARALLEL=8 PGURL=postgresql://postgres@127.0.0.1:55432 ./bench/scim-inbound.sh
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
USERS=${USERS:-10000}
PARALLEL=${PARALLEL:-8}
DB_KIND=${DB:-postgresql}

bench_build
[[ "$DB_KIND" == sqlite ]] || bench_postgres
bench_server_start scim "$DB_KIND"
TOKEN=$(bench_admin_token)
api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' "$@"; }
DEPT=$(api -d "{\"code\":\"HR-$$\",\"name\":\"Company $$\"}" "$URL/api/admin/v1/departments" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -1)
SOURCE_JSON=$(api -d "{\"name\":\"HR bench $$\",\"kind\":\"scim\",\"subtrees\":[\"$DEPT\"]}" "$URL/api/admin/v1/sources")
SCIM_TOKEN=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' <<<"$SOURCE_JSON")
[[ -n "$SCIM_TOKEN" ]] || { echo "could not create the SCIM source: $SOURCE_JSON" >&2; exit 1; }
BEFORE=$(api "$URL/api/admin/v1/users?pageSize=1" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')

CPU0=$(bench_cpu_ticks)
RESULT=$(SCIM_URL="$URL/scim/v2" SCIM_TOKEN="$SCIM_TOKEN" USERS="$USERS" PARALLEL="$PARALLEL" DEPARTMENT="$DEPT" node "$BENCH_ROOT/bench/scim-inbound.mjs") \
  || { echo "load failed: $RESULT" >&2; tail -20 "$SERVER_LOG" >&2; exit 1; }
CPU1=$(bench_cpu_ticks)
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
