#!/usr/bin/env bash
# The customer view's own query (crates/gateway/assets/dashboard.js: CUSTOMER_QUERY, with each
# server's last CHART_PINGS pings for the usage charts) against the same query without the
# charts' history, on the benchmark databases: 100 sequential requests each over the 20
# dashboard customers, twice, printing the median latency and the answer's size.
# Usage (from the repository root, after `bench seed`):
#   crates/bench/scripts/customer-view-probe.sh [path/to/licensedot]
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=${1:-target/release/licensedot}
PG=postgres://postgres@127.0.0.1:5432
export LICENSEDOT_LOG__LEVEL=warn
export LICENSEDOT_JWT_SECRET=probe-secret-of-at-least-32-bytes-long
SERVICE_TOKEN=probe-service-token-0123456789abcdef
LICENSEDOT_VERSION_SERVICE__DATABASE_URL=$PG/licensedot_bench_ver \
LICENSEDOT_VERSION_SERVICE__LISTEN=127.0.0.1:47001 \
LICENSEDOT_VERSION_SERVICE__SERVICE_TOKEN=$SERVICE_TOKEN \
  "$BIN" version-service >/dev/null 2>&1 &
VERSION_PID=$!
LICENSEDOT_GATEWAY__DATABASE_URL=$PG/licensedot_bench_lic \
LICENSEDOT_GATEWAY__LISTEN=127.0.0.1:47002 \
LICENSEDOT_GATEWAY__VERSION_SERVICE__URL=http://127.0.0.1:47001/graphql \
LICENSEDOT_GATEWAY__VERSION_SERVICE__SERVICE_TOKEN=$SERVICE_TOKEN \
  "$BIN" serve >/dev/null 2>&1 &
GATEWAY_PID=$!
trap 'kill $VERSION_PID $GATEWAY_PID' EXIT
for _ in $(seq 1 60); do
  curl -fs http://127.0.0.1:47002/ready >/dev/null 2>&1 && break
  sleep 1
done
TOKEN=$("$BIN" token --role admin)
IDS=$(psql -X -qtA -h 127.0.0.1 -U postgres licensedot_bench_lic \
  -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM customers WHERE name LIKE 'Dashboard Bench %'")
python3 - "$TOKEN" "$IDS" crates/gateway/assets/dashboard.js <<'PY'
import json, re, statistics, sys, time, urllib.request

token, ids, js = sys.argv[1], sys.argv[2].split(","), open(sys.argv[3]).read()
fields = re.search(r'const PING_FIELDS = "([^"]+)"', js).group(1)
pings = re.search(r"const CHART_PINGS = (\d+)", js).group(1)
page = re.search(r"const CUSTOMER_QUERY = `([^`]+)`", js).group(1)
page = page.replace("${PING_FIELDS}", fields).replace("${CHART_PINGS}", pings)
without = re.sub(r"\n\s*usagePings\(last: \d+\) \{[^}]*\}", "", page)


def run(query, n=100):
    times, size = [], 0
    for i in range(n):
        body = json.dumps({"query": query, "variables": {"id": ids[i % len(ids)]}}).encode()
        request = urllib.request.Request(
            "http://127.0.0.1:47002/graphql", body,
            {"Content-Type": "application/json", "Authorization": "Bearer " + token})
        started = time.perf_counter()
        answer = urllib.request.urlopen(request).read()
        times.append((time.perf_counter() - started) * 1000)
        document = json.loads(answer)
        if not document.get("data", {}).get("customer") or document.get("errors"):
            sys.exit(f"unexpected answer: {answer[:500]!r}")
        size = len(answer)
    return statistics.median(times[10:]), size


for name, query in [("without the charts' history", without), ("the page's query", page)] * 2:
    p50, size = run(query)
    print(f"{name}: p50 {p50:.2f} ms, answer {size / 1024:.1f} KiB")
PY
