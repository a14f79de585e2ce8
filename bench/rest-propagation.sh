#!/usr/bin/env bash
# REST propagation: how long a role assignment made through the admin API takes to reach a vendor REST API.
# Runs RestPropagationBenchmark (tests/IdentityHub.Interop.Tests/Provisioning, Category=Benchmark, left out of test.sh):
# a Release server process with one REST connector (the expense preset: HMAC-signed, {code,message,data} envelope,
# departments first) to the 合思-style stand-in (real Kestrel, in the test process), CHANGES grants through
# POST /api/admin/v1/assignments one after another (each waited for), timed from "the API call returned" to "the vendor
# applied the new version"; prints p50/p90/p99/max per database (SQLite, and PostgreSQL when IDENTITYHUB_TEST_POSTGRES
# is set), once per run.
#   CHANGES=200 RUNS=3 IDENTITYHUB_TEST_POSTGRES="Host=127.0.0.1;Port=55432;Username=postgres" ./bench/rest-propagation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CHANGES=${CHANGES:-200}
RUNS=${RUNS:-3}
FILTER=${FILTER:-RestPropagationBenchmark}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "Building Release..." >&2
dotnet build tests/IdentityHub.Interop.Tests -c Release -v q -nologo >/dev/null
for run in $(seq "$RUNS"); do
  : >"$out"
  IDENTITYHUB_BENCH_CHANGES="$CHANGES" IDENTITYHUB_BENCH_OUT="$out" \
    dotnet test tests/IdentityHub.Interop.Tests -c Release --no-build -v q -nologo --filter "FullyQualifiedName~$FILTER" >/dev/null
  sed "s/^/run $run: /" "$out"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
