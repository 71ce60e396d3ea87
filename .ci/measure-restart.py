#!/usr/bin/env python3
"""Measures how long usage is blank when the version service restarts, with the real binaries.

Starts `licensedot version-service` and `licensedot serve` on loopback over seeded SQLite
databases, runs 8 clients that query usage in a loop, restarts the version-service process
(SIGTERM, wait for exit, start again) and reports the window in which usage answers carried
errors. Usage: .ci/measure-restart.py [path/to/licensedot] [extra seconds down]
"""
import json, os, signal, subprocess, sys, tempfile, threading, time, urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/licensedot"
EXTRA_DOWN = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
GATEWAY, VERSION = "127.0.0.1:4190", "127.0.0.1:4191"
QUERY = '{ customer(id: "1") { licenses { id hostnames { name lastUsagePingAt } } } }'
work = tempfile.mkdtemp(prefix="licensedot-restart-")
lic = f"sqlite://{work}/lic.sqlite?mode=rwc"
ver = f"sqlite://{work}/ver.sqlite?mode=rwc"
env = dict(os.environ,
           LICENSEDOT_GATEWAY__LISTEN=GATEWAY, LICENSEDOT_GATEWAY__DATABASE_URL=lic,
           LICENSEDOT_GATEWAY__AUTH__REQUIRED="false",
           LICENSEDOT_GATEWAY__VERSION_SERVICE__URL=f"http://{VERSION}/graphql",
           LICENSEDOT_VERSION_SERVICE__LISTEN=VERSION,
           LICENSEDOT_VERSION_SERVICE__DATABASE_URL=ver, LICENSEDOT_LOG__LEVEL="warn")
subprocess.run([BIN, "seed", "--database-url", lic, "--version-database-url", ver,
                "--customers", "20"], env=env, check=True, stdout=subprocess.DEVNULL)

def start(*args):
    return subprocess.Popen([BIN, *args], env=env, stdout=subprocess.DEVNULL)

def wait_ready(address):
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://{address}/health", timeout=1)
            return
        except Exception:
            time.sleep(0.02)
    raise SystemExit(f"{address} did not start")

version = start("version-service"); wait_ready(VERSION)
gateway = start("serve"); wait_ready(GATEWAY)
t0 = time.monotonic(); running = True; results = []

def client():
    body = json.dumps({"query": QUERY}).encode()
    while running:
        sent = time.monotonic() - t0
        request = urllib.request.Request(f"http://{GATEWAY}/graphql", data=body,
                                         headers={"content-type": "application/json"})
        answer = json.load(urllib.request.urlopen(request, timeout=10))
        results.append((sent, time.monotonic() - t0, bool(answer.get("errors"))))

threads = [threading.Thread(target=client) for _ in range(8)]
for t in threads: t.start()
time.sleep(2)
down = time.monotonic() - t0
version.send_signal(signal.SIGTERM); version.wait(timeout=30)
time.sleep(EXTRA_DOWN)  # a slower restart (a bigger host, a container pull)
version = start("version-service"); wait_ready(VERSION)
up = time.monotonic() - t0
time.sleep(3)
running = False
for t in threads: t.join()
for p in (gateway, version):
    p.send_signal(signal.SIGTERM); p.wait(timeout=30)
blank = [r for r in results if r[2]]
window = (max(r[1] for r in blank) - min(r[0] for r in blank)) if blank else 0.0
print(f"version service down (SIGTERM to ready) {up - down:.3f} s; {len(results)} requests, "
      f"{len(blank)} with usage errors; usage blank for {window:.3f} s at 8 clients")
