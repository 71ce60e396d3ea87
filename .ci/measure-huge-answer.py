#!/usr/bin/env python3
"""Measures the gateway's memory when the version service answers 50 MB, with the real binary.

A stand-in version service (in this script) streams a well-formed 50 MB GraphQL answer without
Content-Length; `licensedot serve` (timeout 10 s) is queried by 8 clients, 5 rounds each. Prints
the size of the answers clients got and the gateway's peak and final RSS.
Usage: .ci/measure-huge-answer.py [path/to/licensedot]
"""
import http.server, json, os, signal, subprocess, sys, tempfile, threading, time, urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/licensedot"
GATEWAY, UPSTREAM = "127.0.0.1:4192", ("127.0.0.1", 4193)
QUERY = '{ customer(id: "1") { licenses { id hostnames { name lastUsagePingAt } } } }'
CHUNK = b"9" * (1024 * 1024)

class Huge(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # body delimited by close: the gateway must stream it
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        try:
            self.wfile.write(b'{"data": {"_entities": [{"name": "x", "lastUsagePingAt": "')
            for _ in range(50):
                self.wfile.write(CHUNK)
            self.wfile.write(b'"}]}}')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway stopped reading at its cap
    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(UPSTREAM, Huge)
threading.Thread(target=server.serve_forever, daemon=True).start()
work = tempfile.mkdtemp(prefix="licensedot-huge-")
lic = f"sqlite://{work}/lic.sqlite?mode=rwc"
env = dict(os.environ, LICENSEDOT_GATEWAY__LISTEN=GATEWAY, LICENSEDOT_GATEWAY__DATABASE_URL=lic,
           LICENSEDOT_GATEWAY__AUTH__REQUIRED="false", LICENSEDOT_LOG__LEVEL="error",
           LICENSEDOT_GATEWAY__VERSION_SERVICE__URL="http://%s:%d/graphql" % UPSTREAM,
           LICENSEDOT_GATEWAY__VERSION_SERVICE__TIMEOUT_MS="10000")
subprocess.run([BIN, "seed", "--database-url", lic, "--customers", "20"], env=env, check=True,
               stdout=subprocess.DEVNULL)
gateway = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL)
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://{GATEWAY}/health", timeout=1); break
    except Exception:
        time.sleep(0.02)

def rss(field):
    for line in open(f"/proc/{gateway.pid}/status"):
        if line.startswith(field):
            return int(line.split()[1]) // 1024
sizes, codes = [], set()
def client():
    body = json.dumps({"query": QUERY}).encode()
    for _ in range(5):
        request = urllib.request.Request(f"http://{GATEWAY}/graphql", data=body,
                                         headers={"content-type": "application/json"})
        text = urllib.request.urlopen(request, timeout=30).read()
        sizes.append(len(text))
        for error in json.loads(text).get("errors", []):
            codes.add(error["extensions"]["code"])
baseline = rss("VmRSS")
started = time.monotonic()
threads = [threading.Thread(target=client) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.monotonic() - started
time.sleep(1)
print(f"40 requests in {elapsed:.1f} s; answers {min(sizes)}-{max(sizes)} bytes, codes {sorted(codes)}; "
      f"gateway RSS before {baseline} MB, peak {rss('VmHWM')} MB, after {rss('VmRSS')} MB")
gateway.send_signal(signal.SIGTERM); gateway.wait(timeout=30)
