#!/usr/bin/env bash
# Times the CSV import of 10,000 users through the admin API (dry run, then commit) on SQLite and,
# when IDENTITYHUB_TEST_POSTGRES is set, PostgreSQL; prints one line per database.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
dotnet build tests/IdentityHub.Server.IntegrationTests -v q -nologo >/dev/null
IDENTITYHUB_BENCH_USERS=10000 IDENTITYHUB_BENCH_OUT="$out" \
  dotnet test tests/IdentityHub.Server.IntegrationTests --no-build -v q -nologo \
  --filter "FullyQualifiedName~CsvImportBenchmark" >/dev/null
cat "$out"
