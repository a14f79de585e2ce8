#!/usr/bin/env bash
# CSV import of USERS users through the admin API of a real Release server: 100 departments first, then one text/csv
# file of USERS users (every column, a department code per row, a manager on 49 rows of 50) POSTed to
# /api/admin/v1/import/users twice: a dry run (the default), then dryRun=false. Every row goes through the same
# validation and directory service as one created by hand, in one transaction; the dry run rolls it back.
# Fails unless both answers report USERS rows created. DATABASE=sqlite (a fresh file) or postgresql (a throwaway cluster,
# or PGURL). Prints the times, rows/s, server CPU per row and peak working set, and RESULT lines for run.sh.
# Before them, as the other scenarios warm up, a dry run of WARM other users (default USERS), reported as its own
# row (csv-import-first-dry-run): whichever import runs first in a fresh process runs while tiered compilation promotes
# the import's code (measured: a dry run of the same file first 1,106 rows/s, then 2,508), which every later import of a
# running server has behind it. WARM=0 measures the first import.
#   USERS=10000 WARM=10000 DATABASE=sqlite ./bench/csv-import.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
USERS=${USERS:-10000}
WARM=${WARM:-$USERS}
DATABASE=${DATABASE:-sqlite}

bench_build
[[ "$DATABASE" == postgresql ]] && bench_postgres
bench_server_start csv "$DATABASE"
TOKEN=$(bench_admin_token)
RUN="B$$"
awk -v run="$RUN" 'BEGIN { print "code,name,parentCode"; for (d = 0; d < 100; d++) printf "%s-D%d,Department %d,%s\n", run, d, d, (d == 0 ? "" : run "-D0") }' \
  >"$BENCH_WORK/departments.csv"
users_csv() { # PREFIX COUNT: COUNT users whose names start with PREFIX, in RUN's departments
  awk -v run="$RUN" -v p="$1" -v n="$2" 'BEGIN {
    print "employeeNumber,userName,displayName,email,phoneNumber,departmentCode,managerEmployeeNumber"
    for (u = 0; u < n; u++)
      printf "%s-%05d,%s-user%05d,Person %d,p%d.%s@example.com,+86 10 5555 %04d,%s-D%d,%s\n", p, u, p, u, u, u, p, u % 10000, run, u % 100,
        (u % 50 == 0 ? "" : sprintf("%s-%05d", p, u - u % 50))
  }'
}
users_csv "$RUN" "$USERS" >"$BENCH_WORK/users.csv"
users_csv "W$$" "$WARM" >"$BENCH_WORK/warm.csv"

post() { # PATH_AND_QUERY FILE -> prints "seconds created status"
  curl -sS -o "$BENCH_WORK/answer.json" -w '%{time_total} %{http_code}\n' --max-time 3600 -H "Authorization: Bearer $TOKEN" \
    -H 'content-type: text/csv' --data-binary "@$2" "$URL/api/admin/v1/import/$1" >"$BENCH_WORK/timing"
  read -r seconds status <"$BENCH_WORK/timing"
  echo "$seconds $(sed -n 's/.*"created":\([0-9]*\).*/\1/p' "$BENCH_WORK/answer.json" | head -1) $status"
}
read -r _ created status < <(post "departments?dryRun=false" "$BENCH_WORK/departments.csv")
[[ "$status" == 200 && "$created" == 100 ]] || bench_die "department import answered $status: $(head -c 500 "$BENCH_WORK/answer.json")"

ERRORS=0
MODES=(dry-run commit); ((WARM == 0)) || MODES=(first-dry-run "${MODES[@]}")
for mode in "${MODES[@]}"; do
  query=users file=users.csv rows=$USERS
  [[ "$mode" == commit ]] && query="users?dryRun=false"
  [[ "$mode" == first-dry-run ]] && file=warm.csv rows=$WARM
  bench_reset_peak
  cpu0=$(bench_cpu_ticks)
  read -r seconds created status < <(post "$query" "$BENCH_WORK/$file")
  cpu1=$(bench_cpu_ticks)
  errors=0
  if [[ "$status" != 200 || "$created" != "$rows" ]]; then
    echo "the $mode answered $status with created=$created: $(head -c 500 "$BENCH_WORK/answer.json")" >&2
    errors=$rows; ERRORS=1
  fi
  rate=$(awk -v n="$rows" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
  echo "csv-import $DATABASE $mode: $rows users in ${seconds} s ($rate rows/s), server CPU $(bench_cpu_ms_per_op "$cpu0" "$cpu1" "$rows") ms per row" >&2
  echo "RESULT name=csv-import-$mode throughput=${rate}_rows/s_(${rows}_in_$(printf '%.1f' "$seconds")_s) p50_ms=- p99_ms=- errors=$errors cpu_ms=$(bench_cpu_ms_per_op "$cpu0" "$cpu1" "$rows") peak_kib=$(bench_hwm_kib)"
done
((ERRORS == 0))
