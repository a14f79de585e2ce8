#!/usr/bin/env bash
# Provisioning burst: USERS changes land in the outbox in one commit and the dispatcher drains them to one target:
# TARGET=webhook (tests/interop/webhook-receiver.mjs, which verifies every signature with `standardwebhooks`) or
# TARGET=scim (tests/interop/scim-server.mjs, scimmy). Builds Release, starts the server on a fresh database
# (DATABASE=postgresql: a throwaway cluster, or PGURL; DATABASE=sqlite: a file) with logging at Warning, creates the
# connector through the admin API, inserts USERS users holding a role of the application (a connector hears only of
# users in its scope) and one outbox row each with SQL in one commit (the burst a role edit with USERS holders writes).
# The clock stops when the target has accepted exactly USERS deliveries more (webhook: messages accepted; SCIM: users
# held), asserted with a timeout (TIMEOUT seconds); then the outbox must be empty and the target must not have got more.
# Before it, as the other scenarios warm up, a burst of WARM other users is drained unmeasured: the first thousands of
# deliveries of a fresh process run while tiered compilation is still promoting the dispatcher's code (a JIT summary
# showed over 4,000 methods compiled 14-22 s into an unwarmed 10,000 burst, and perf put the JIT at about a fifth of
# the server's CPU), which a running node has long finished. WARM=0 measures the cold burst.
# Prints the drain time, deliveries/s, the server's CPU time per delivery and its peak working set (VmHWM), and a
# RESULT line for run.sh. One connector, so PER_CONNECTOR (Provisioning:MaxParallelPerConnector) bounds the deliveries
# in flight, not PARALLEL (Provisioning:MaxParallelDeliveries).
#   USERS=10000 WARM=5000 TARGET=webhook DATABASE=postgresql PARALLEL=8 PER_CONNECTOR=4 BATCH=64 ./bench/provisioning-burst.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
USERS=${USERS:-10000}
WARM=${WARM:-$((USERS / 2))}
TARGET=${TARGET:-webhook}
DATABASE=${DATABASE:-postgresql}
PARALLEL=${PARALLEL:-8}
PER_CONNECTOR=${PER_CONNECTOR:-4}
BATCH=${BATCH:-64}
TIMEOUT=${TIMEOUT:-$((120 + (WARM + USERS) / 20))}
SCIM_TOKEN="burst-scim-bearer-token-0123456789"

bench_build
bench_require_node_modules
[[ "$DATABASE" == postgresql ]] && bench_postgres
if [[ "$TARGET" == webhook ]]; then
  # Node's default keep-alive (5 s), not the tests' 1 s: .NET does not reuse a connection whose server keeps it 1 s.
  bench_node_peer receiver webhook-receiver.mjs KEEPALIVE_MS=5000
else
  bench_node_peer scim scim-server.mjs SCIM_TOKEN="$SCIM_TOKEN"
fi
PEER="http://127.0.0.1:$PEER_PORT"
bench_server_start burst "$DATABASE" Provisioning__MaxParallelDeliveries="$PARALLEL" Provisioning__MaxParallelPerConnector="$PER_CONNECTOR" \
  Provisioning__BatchSize="$BATCH" Provisioning__PollInterval=00:00:00.200

TOKEN=$(bench_admin_token)
api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' "$@"; }
APP=$(api -d '{"name":"Burst"}' "$URL/api/admin/v1/applications" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
if [[ "$TARGET" == webhook ]]; then
  CONNECTOR_JSON=$(api -d "{\"kind\":\"webhook\",\"name\":\"burst\",\"settings\":{\"url\":\"$PEER/hooks\"}}" "$URL/api/admin/v1/applications/$APP/connectors")
  WHSEC=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' <<<"$CONNECTOR_JSON")
  curl -fs -H 'content-type: application/json' -d "{\"secret\":\"$WHSEC\"}" "$PEER/control/secret" >/dev/null
else
  CONNECTOR_JSON=$(api -d "{\"kind\":\"scim\",\"name\":\"burst\",\"settings\":{\"baseUrl\":\"$PEER/scim/v2\",\"authentication\":\"bearer\",\"groupsMode\":false},\"secret\":\"$SCIM_TOKEN\"}" \
    "$URL/api/admin/v1/applications/$APP/connectors")
fi
CONNECTOR=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' <<<"$CONNECTOR_JSON")
[[ -n "$APP" && -n "$CONNECTOR" ]] || bench_die "could not create the application and connector: $CONNECTOR_JSON"

if [[ "$DATABASE" == postgresql ]]; then
  DBNAME=$(sed -n 's/.*Database=\([^;]*\).*/\1/p' <<<"$(bench_connection_string burst postgresql)")
  bench_psql "$DBNAME" "BEGIN;
INSERT INTO \"Permissions\" (\"Id\", \"ApplicationId\", \"Name\", \"Parameters\", \"CreatedAt\", \"UpdatedAt\")
VALUES ('00000000-0000-7000-8000-00000000b001', '$APP', 'burst.use', '{}', now(), now());
INSERT INTO \"AccessRoles\" (\"Id\", \"ApplicationId\", \"Name\", \"Delegable\", \"CreatedAt\", \"UpdatedAt\")
VALUES ('00000000-0000-7000-8000-00000000b002', '$APP', 'burst-member', false, now(), now());
INSERT INTO \"RolePermissions\" (\"RoleId\", \"PermissionId\", \"Parameters\")
VALUES ('00000000-0000-7000-8000-00000000b002', '00000000-0000-7000-8000-00000000b001', '{}');
COMMIT;"
  # insert_burst FIRST LAST: users burst-FIRST..burst-LAST holding the role, and one outbox row each, in one commit.
  insert_burst() {
    bench_psql "$DBNAME" "BEGIN;
  INSERT INTO \"AspNetUsers\" (\"Id\", \"UserName\", \"NormalizedUserName\", \"Email\", \"NormalizedEmail\", \"EmailConfirmed\",
    \"PhoneNumberConfirmed\", \"TwoFactorEnabled\", \"LockoutEnabled\", \"AccessFailedCount\", \"EmployeeNumber\", \"DisplayName\",
    \"Status\", \"CreatedAt\", \"UpdatedAt\", \"SecurityStamp\", \"ConcurrencyStamp\")
  SELECT 'burst-' || i, 'burst' || i, 'BURST' || i, 'burst' || i || '@example.test', 'BURST' || i || '@EXAMPLE.TEST', true,
    false, false, true, 0, 'B' || i, 'Burst user ' || i, 'Active', now(), now(), md5(i::text), md5(i::text)
  FROM generate_series($1, $2) AS i;
  INSERT INTO \"RoleAssignments\" (\"Id\", \"UserId\", \"RoleId\", \"ValidFrom\", \"Reason\", \"GrantedBy\", \"GrantedAt\", \"UpdatedAt\")
  SELECT gen_random_uuid(), 'burst-' || i, '00000000-0000-7000-8000-00000000b002', now(), 'bench', 'bench', now(), now()
  FROM generate_series($1, $2) AS i;
  INSERT INTO \"ProvisioningOutbox\" (\"ConnectorId\", \"UserId\", \"Change\", \"CreatedAt\", \"DueAt\", \"Attempts\", \"Status\")
  SELECT '$CONNECTOR', 'burst-' || i, 'bench.burst', now(), now(), 0, 'Pending' FROM generate_series($1, $2) AS i;
  COMMIT;"
  }
  outbox_count() { bench_psql "$DBNAME" 'SELECT count(*) FROM "ProvisioningOutbox"'; }
else
  DBFILE="$BENCH_WORK/burst.db"
  # Dates are stored as EF Core's binary DateTimeOffset and ids as the provider writes them: take both from the
  # application the admin API just created, so the rows look like the server's own.
  NOW=$(sqlite3 "$DBFILE" "SELECT \"CreatedAt\" FROM \"Applications\" WHERE lower(\"Id\") = lower('$APP')")
  APPID=$(sqlite3 "$DBFILE" "SELECT \"Id\" FROM \"Applications\" WHERE lower(\"Id\") = lower('$APP')")
  CONNID=$(sqlite3 "$DBFILE" "SELECT \"Id\" FROM \"Connectors\" WHERE lower(\"Id\") = lower('$CONNECTOR')" 2>/dev/null || true)
  [[ -n "$CONNID" ]] || CONNID=$CONNECTOR
  upper() { [[ "$APPID" == "${APPID^^}" ]] && echo "${1^^}" || echo "$1"; }
  PERM=$(upper 00000000-0000-7000-8000-00000000b001); ROLE=$(upper 00000000-0000-7000-8000-00000000b002)
  sqlite3 "$DBFILE" "PRAGMA busy_timeout = 30000; BEGIN;
INSERT INTO \"Permissions\" (\"Id\", \"ApplicationId\", \"Name\", \"Parameters\", \"CreatedAt\", \"UpdatedAt\")
VALUES ('$PERM', '$APPID', 'burst.use', '{}', $NOW, $NOW);
INSERT INTO \"AccessRoles\" (\"Id\", \"ApplicationId\", \"Name\", \"Delegable\", \"CreatedAt\", \"UpdatedAt\")
VALUES ('$ROLE', '$APPID', 'burst-member', 0, $NOW, $NOW);
INSERT INTO \"RolePermissions\" (\"RoleId\", \"PermissionId\", \"Parameters\") VALUES ('$ROLE', '$PERM', '{}');
COMMIT;"
  insert_burst() {
    sqlite3 "$DBFILE" "PRAGMA busy_timeout = 30000; BEGIN;
  CREATE TEMP TABLE n(i INTEGER PRIMARY KEY);
  WITH RECURSIVE s(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM s WHERE i < $2) INSERT INTO n SELECT i FROM s;
  INSERT INTO \"AspNetUsers\" (\"Id\", \"UserName\", \"NormalizedUserName\", \"Email\", \"NormalizedEmail\", \"EmailConfirmed\",
    \"PhoneNumberConfirmed\", \"TwoFactorEnabled\", \"LockoutEnabled\", \"AccessFailedCount\", \"EmployeeNumber\", \"DisplayName\",
    \"Status\", \"CreatedAt\", \"UpdatedAt\", \"SecurityStamp\", \"ConcurrencyStamp\")
  SELECT 'burst-' || i, 'burst' || i, 'BURST' || i, 'burst' || i || '@example.test', 'BURST' || i || '@EXAMPLE.TEST', 1,
    0, 0, 1, 0, 'B' || i, 'Burst user ' || i, 'Active', $NOW, $NOW, hex(randomblob(16)), hex(randomblob(16)) FROM n;
  INSERT INTO \"RoleAssignments\" (\"Id\", \"UserId\", \"RoleId\", \"ValidFrom\", \"Reason\", \"GrantedBy\", \"GrantedAt\", \"UpdatedAt\")
  SELECT $(if [[ "$APPID" == "${APPID^^}" ]]; then echo upper; else echo lower; fi)(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-8' || substr(h, 18, 3) || '-' || substr(h, 21, 12)),
    'burst-' || i, '$ROLE', $NOW, 'bench', 'bench', $NOW, $NOW FROM (SELECT i, hex(randomblob(16)) AS h FROM n);
  INSERT INTO \"ProvisioningOutbox\" (\"ConnectorId\", \"UserId\", \"Change\", \"CreatedAt\", \"DueAt\", \"Attempts\", \"Status\")
  SELECT '$CONNID', 'burst-' || i, 'bench.burst', $NOW, $NOW, 0, 'Pending' FROM n;
  COMMIT;"
  }
  outbox_count() { sqlite3 "$DBFILE" 'PRAGMA busy_timeout = 30000; SELECT count(*) FROM "ProvisioningOutbox"' | tail -1; }
fi
accepted() {
  if [[ "$TARGET" == webhook ]]; then
    curl -fsS "$PEER/summary" | python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["accepted"], s["badSignatures"])'
  else
    curl -fsS "$PEER/_summary" | python3 -c 'import json, sys; s = json.load(sys.stdin); print(s["users"], 0)'
  fi
}
outbox_emptied() { for _ in $(seq 100); do [[ $(outbox_count) == 0 ]] && break; sleep 0.1; done; } # up to 10 s
DEADLINE=$((SECONDS + TIMEOUT))
wait_for() { # N: until the target has accepted N deliveries in all
  while :; do
    read -r GOT BAD < <(accepted)
    ((GOT >= $1)) && break
    ((SECONDS < DEADLINE)) || bench_die "the $TARGET target has accepted $GOT of $1 deliveries after ${TIMEOUT}s"
    sleep 0.1
  done
}
if ((WARM > 0)); then
  bench_log "warming up: a burst of $WARM other users, not measured"
  insert_burst 1 "$WARM"
  wait_for "$WARM"
  outbox_emptied
fi
EXPECTED=$((WARM + USERS))
bench_log "inserting $USERS users and the burst of $USERS outbox rows in one commit ($DATABASE, target $TARGET)"
bench_reset_peak
insert_burst "$((WARM + 1))" "$EXPECTED"
CPU0=$(bench_cpu_ticks)
TARGET_CPU0=$(bench_cpu_ticks "$PEER_PID")
START=$(date +%s.%N)
# Wake the dispatcher now rather than at its next poll: not needed (PollInterval 200 ms) and not done, so the figure
# includes at most one poll interval.
wait_for "$EXPECTED"
END=$(date +%s.%N)
CPU1=$(bench_cpu_ticks)
TARGET_CPU1=$(bench_cpu_ticks "$PEER_PID")
PEAK=$(bench_hwm_kib)
# Exactly WARM + USERS: none more arrives, none was refused for its signature, and the outbox is empty.
outbox_emptied
sleep 1
read -r GOT BAD < <(accepted)
LEFT=$(outbox_count)
# The target's own CPU (one Node thread) bounds the drain when it nears 1,000 ms per second of the drain.
bench_log "the $TARGET target's CPU: $(bench_cpu_ms_per_op "$TARGET_CPU0" "$TARGET_CPU1" "$USERS") ms per delivery"
[[ "$TARGET" == webhook ]] && bench_log "the receiver accepted $(curl -fsS "$PEER/summary" | python3 -c 'import json, sys; print(json.load(sys.stdin)["connections"])') TCP connections"
ERRORS=0
if ((GOT != EXPECTED || BAD != 0)) || [[ "$LEFT" != 0 ]]; then
  echo "expected exactly $EXPECTED deliveries ($WARM warming up, $USERS measured): the target holds $GOT ($BAD bad signatures); $LEFT outbox rows left" >&2
  ERRORS=$((GOT > EXPECTED ? GOT - EXPECTED : EXPECTED - GOT)); ((ERRORS)) || ERRORS=1
fi
python3 - "$START" "$END" "$USERS" "$CPU0" "$CPU1" "$(getconf CLK_TCK)" "$PEAK" "$TARGET" "$ERRORS" <<'PY'
import sys
start, end, n, cpu0, cpu1, hz, peak, target, errors = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), sys.argv[8], int(sys.argv[9])
seconds = end - start
cpu = (cpu1 - cpu0) / hz * 1000 / n
print(f"drained {n} changes to the {target} target in {seconds:.1f} s ({n / seconds:.0f} deliveries/s)")
# CPU per delivery hardly depends on what else the machine runs: compare this figure across machines.
print(f"server CPU: {(cpu1 - cpu0) / hz:.1f} s, {cpu:.2f} ms per delivery; peak working set {peak / 1024:.0f} MiB")
print(f"RESULT name=burst-{target} throughput={n / seconds:.0f}_deliveries/s_({n}_in_{seconds:.1f}_s) p50_ms=- p99_ms=- errors={errors} cpu_ms={cpu:.3f} peak_kib={peak}")
PY
echo "cores: $(nproc); database: $DATABASE; parallel deliveries: $PARALLEL, per connector: $PER_CONNECTOR; batch: $BATCH; warm-up burst: $WARM" >&2
((ERRORS == 0))
