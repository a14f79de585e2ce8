#!/usr/bin/env bash
# Builds IdentityHub and runs every test project against a throwaway PostgreSQL cluster.
# Installs missing prerequisites (PostgreSQL 15, chromium, xmlsec1, openssl, node/npm, redis-server, nginx, wrk, sqlite3)
# with apt-get.
# Once the tests have run, the last line is "N passed, N failed[, N skipped]"; non-zero exit on any
# failure, any skipped test, a dotnet test error, or no tests at all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

export DEBIAN_FRONTEND=noninteractive DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export MSBUILDDISABLENODEREUSE=1   # leave no MSBuild nodes running after the script
PGBIN=/usr/lib/postgresql/15/bin
ARTIFACTS="$PWD/test-artifacts"
RESULTS="$ARTIFACTS/results"
PGTMP=""
T0=$SECONDS; TP=$SECONDS
phase() { echo "== [$((SECONDS - TP))s] done; total $((SECONDS - T0))s =="; TP=$SECONDS; echo "== $* =="; }
die() { echo "test.sh: $*" >&2; exit 1; }

# One cleanup for every exit path: stop and delete the PostgreSQL cluster.
cleanup() {
  if [[ -n "$PGTMP" && -d "$PGTMP" ]]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGTMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- 1. System prerequisites (apt-get only when something is missing) ----
echo "== prerequisites =="
missing=()
dpkg -s postgresql-15 >/dev/null 2>&1 || missing+=(postgresql-15)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
command -v xmlsec1 >/dev/null || missing+=(xmlsec1)
command -v openssl >/dev/null || missing+=(openssl)
# Debian's npm conflicts with a NodeSource nodejs (which bundles npm): install both or neither.
{ command -v node && command -v npm; } >/dev/null || missing+=(nodejs npm)
command -v python3 >/dev/null || missing+=(python3)
# The Redis backplane tests start their own redis-server on a free port; the Debian service is not used.
command -v redis-server >/dev/null || missing+=(redis-server)
# nginx: the proxy the multi-node tests start themselves (nginx -p <dir>); the package's own service is not wanted.
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null || missing+=(nginx)
# The benchmark smoke run (bench/run.sh): wrk for HTTP load, sqlite3 to write the provisioning burst into a SQLite file.
command -v wrk >/dev/null || missing+=(wrk)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
# A Chinese font, so the zh-CN screenshots in test-artifacts show the text and not empty boxes.
[[ -n "$(fc-list :lang=zh 2>/dev/null)" ]] || missing+=(fonts-wqy-microhei)
mkdir -p "$ARTIFACTS"
APTLOG="$ARTIFACTS/apt.log"
apt_install() {  # quiet apt-get; show the log only when it fails
  apt-get install -y -qq "$@" >"$APTLOG" 2>&1 || { tail -n 30 "$APTLOG" >&2; return 1; }
}
if ((${#missing[@]})); then
  [[ $EUID -eq 0 ]] || die "missing ${missing[*]} and not root: install them first"
  echo "installing: ${missing[*]}"
  apt-get update -qq >"$APTLOG" 2>&1 || { tail -n 30 "$APTLOG" >&2; die "apt-get update failed"; }
  apt_install --no-install-recommends "${missing[@]}" || die "apt-get install ${missing[*]} failed"
  # Where an init system started the packaged daemon on 6379, stop it: nothing here uses it.
  if [[ " ${missing[*]} " == *" redis-server "* ]]; then
    { service redis-server stop || systemctl stop redis-server; } >/dev/null 2>&1 || true
  fi
fi
# Installing nginx starts its service on :80 where an init system runs it (containers' policy-rc.d refuses): stop it.
if [[ " ${missing[*]-} " == *" nginx "* ]] && command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
  systemctl stop nginx && systemctl disable --quiet nginx || die "could not stop the nginx service"
fi
CHROMIUM=/usr/bin/chromium
[[ -x /usr/lib/chromium/chromium ]] && CHROMIUM=/usr/lib/chromium/chromium
if ! timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --dump-dom about:blank >/dev/null 2>&1; then
  echo "chromium does not start headless; installing it with recommended packages"
  apt_install chromium || die "apt-get install chromium failed"
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --dump-dom about:blank >/dev/null 2>&1 \
    || die "$CHROMIUM does not start headless"
fi

# ---- 2. npm packages for the interop tests (if that project exists yet) ----
# Also when the lockfile changed since the last install (npm keeps its own copy in node_modules).
if [[ -f tests/interop/package.json ]] && { [[ ! -f tests/interop/node_modules/.package-lock.json ]] \
    || [[ tests/interop/package-lock.json -nt tests/interop/node_modules/.package-lock.json ]]; }; then
  phase "npm packages"
  if [[ -f tests/interop/package-lock.json ]]; then npm_cmd=ci; else npm_cmd=install; fi
  (cd tests/interop && npm "$npm_cmd" --no-audit --no-fund --loglevel=error) || die "npm $npm_cmd failed"
fi

# ---- 3. Build ----
phase "dotnet tool restore + build"
dotnet tool restore >/dev/null || die "dotnet tool restore failed"
dotnet build IdentityHub.sln -c Release --nologo -v minimal --disable-build-servers || die "build failed"

# ---- 4. Throwaway PostgreSQL cluster (initdb refuses root: run as postgres) ----
phase "PostgreSQL"
[[ $EUID -eq 0 ]] || die "run as root: the PostgreSQL cluster is created as the postgres user"
PGTMP=$(mktemp -d /tmp/pgtest.XXXXXX)
chown postgres:postgres "$PGTMP"
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$PGBIN/initdb" -D "$PGTMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
  >"$PGTMP/initdb.log" 2>&1 || { cat "$PGTMP/initdb.log" >&2; die "initdb failed"; }
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/pg.log" -w -t 30 start \
  -o "-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off" >/dev/null \
  || { cat "$PGTMP/pg.log" >&2; die "PostgreSQL did not start"; }
"$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -Atqc 'select 1' >/dev/null || die "PostgreSQL is not reachable"
echo "PostgreSQL listening on 127.0.0.1:$PGPORT"

# ---- 5. Tests ----
phase "dotnet test"
export IDENTITYHUB_TEST_POSTGRES="Host=127.0.0.1;Port=$PGPORT;Username=postgres"
export IDENTITYHUB_TEST_STRICT=1
export IDENTITYHUB_TEST_CHROMIUM="$CHROMIUM"
export IDENTITYHUB_TEST_ARTIFACTS="$ARTIFACTS"
rm -rf "$RESULTS"
test_rc=0
# Benchmarks (Category=Benchmark) print figures and run from bench/, not here.
dotnet test IdentityHub.sln -c Release --no-build --results-directory "$RESULTS" --filter "Category!=Benchmark" \
  --logger trx --logger "console;verbosity=normal" </dev/null || test_rc=$?

# ---- 6. Benchmark smoke run: every bench/run.sh scenario with tiny counts, on SQLite and this PostgreSQL cluster ----
# It proves the scenarios still work (any error fails it); the figures mean nothing and are kept as an artefact.
phase "benchmark smoke run"
smoke_rc=0
SMOKE=1 BENCH_BUILT=1 PGURL="postgresql://postgres@127.0.0.1:$PGPORT" BENCH_OUT="$ARTIFACTS/bench" \
  bash bench/run.sh >"$ARTIFACTS/bench-smoke.log" 2>&1 </dev/null || smoke_rc=$?
((smoke_rc == 0)) || { echo "bench/run.sh SMOKE=1 failed (exit $smoke_rc); the end of its log:"; tail -n 40 "$ARTIFACTS/bench-smoke.log"; }

phase "results"
((test_rc == 0)) || echo "dotnet test exited with code $test_rc"

# ---- 7. Total every .trx file and the smoke run; the last line is the summary ----
summary_rc=0
python3 - "$RESULTS" "$smoke_rc" <<'PY' || summary_rc=$?
import pathlib, sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
failed_names, skipped_names = [], []
for trx in sorted(pathlib.Path(sys.argv[1]).rglob("*.trx")):
    try:
        root = ET.parse(trx).getroot()
    except ET.ParseError as e:
        print(f"unreadable {trx}: {e}"); failed += 1; failed_names.append(str(trx)); continue
    # Top-level results only (nested InnerResults would count data rows twice).
    for r in (r for res in root if res.tag.split("}")[-1] == "Results"
              for r in res if r.tag.split("}")[-1] == "UnitTestResult"):
        name, outcome = r.get("testName", "?"), r.get("outcome", "")
        if outcome == "Passed": passed += 1
        elif outcome in ("NotExecuted", "Inconclusive", "Pending", "NotRunnable"):
            skipped += 1; skipped_names.append(name)
        else:
            failed += 1; failed_names.append(f"{name} ({outcome})")
            # Why, in a few lines: CI shows only the end of this output, and the .trx may not outlive the run.
            message = next((m.text or "" for m in r.iter() if m.tag.split("}")[-1] == "Message"), "")
            failed_names.extend("    " + line for line in message.strip().splitlines()[:15])
# The benchmark smoke run counts as one test.
if sys.argv[2] == "0": passed += 1
else: failed += 1; failed_names.append(f"bench/run.sh SMOKE=1 (exit {sys.argv[2]}; test-artifacts/bench-smoke.log)")
for title, names in (("Failed", failed_names), ("Skipped (not allowed here)", skipped_names)):
    if names:
        print(f"{title}:"); print("\n".join("  " + n for n in names))
line = f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
if passed + failed + skipped == 0: print("No tests ran.")
print(line)
sys.exit(1 if failed or skipped or passed == 0 else 0)
PY
# The summary line must stay last, so only the exit status reports a dotnet test failure.
(( summary_rc == 0 && test_rc == 0 ))
