#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ (committed).

Manifests: examples/*.yaml and examples/bad/*.yaml, one with --param values. API bodies: one
per route (the first byte picks it), good and bad. HTTP: the router tests' hostile requests
(src/router/proxy_session_test.cc) and plain ones; the first byte is the target's options.
Run again after adding examples: `fuzz/seeds.py`.
"""
import glob
import os

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)


def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


for path in sorted(glob.glob(root + "/examples/*.yaml") + glob.glob(root + "/examples/bad/*.yaml")):
    name = os.path.relpath(path, root + "/examples").replace("/", "-")
    with open(path, "rb") as f:
        write("manifest", name, f.read())
with open(root + "/examples/sample.yaml", "rb") as f:
    write("manifest", "sample-with-params", f.read() + b"\0label=v2\nreplicas=3\nport=9090\n")
write("manifest", "canary", """app: web
run:
  command: ["./web", "--port", "${PORT}"]
  env:
    A: "x"
    B: { value: "y", sticky: true }
replicas: 2
route: { listen: 127.0.0.1:8080, preview: 127.0.0.1:8081 }
health:
  readiness: { exec: ["./check"], interval: 500ms, timeout: 1s, failureThreshold: 3 }
strategy:
  type: canary
  canary:
    steps:
      - weight: 10
      - analysis: { window: 10s, minRequests: 100, maxErrorRate: 0.01, maxLatencyP99: 300ms }
      - weight: 50
      - pause: 10s
      - pause: {}
progressDeadline: 60s
bake: 10s
rollback: { onError: lastSuccessful, keepPrevious: 10m }
hooks:
  preDeploy: { command: ["./migrate", "up"], timeout: 60s }
""")

bodies = [
    (0, '{"manifest": "app: web\\nrun:\\n  command: [\\"./web\\"]\\n", "manifestDir": "/tmp", '
        '"params": {"label": "v2"}, "name": "release-1", "slot": "staging", "whatIf": true, '
        '"rollbackOnError": "none"}'),
    (0, '{"manifest": 5}'),
    (0, '{"params": {"a": 1}}'),
    (0, '{"unknown": true}'),
    (1, '{"to": 3, "force": true, "whatIf": false, "slot": "production"}'),
    (1, '{"to": "3"}'),
    (1, ''),
    (2, '{"version": 2, "whatIf": true}'),
    (2, '[1, 2, 3]'),
    (2, '{"version": 2}' + ' ' * 10),
    (1, '{"to": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}'),
    (0, '{"name": "caf\\u00e9 \\"quoted\\" \\\\"}'),
    (1, '{"to": 1.5}'),
    (3, '{"slot": "staging", "percent": 10, "whatIf": true}'),
    (3, '{"shares": {"staging": 30, "canary": 5}}'),
    (3, '{"shares": {"staging": -1e300}}'),
]
for i, (route, body) in enumerate(bodies):
    write("api_body", "body-%02d" % i, bytes([route]) + body.encode())

head = "POST / HTTP/1.1\r\nHost: x\r\n"
requests = [
    "GET / HTTP/1.1\r\nHost: web\r\nCookie: a=1; lastgood-slot=staging\r\n\r\n",
    "GET /x?lastgood-slot=staging&b=2 HTTP/1.1\r\nHost: web\r\nX-Lastgood-Slot: staging\r\n"
    "Connection: keep-alive, X-Drop\r\nX-Drop: 1\r\nProxy-Foo: 2\r\n\r\n",
    head + "Content-Length: 5\r\n\r\nhello",
    head + "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\nTrailer: t\r\n\r\n",
    head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    head + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    head + "Content-Length: 5, 6\r\n\r\nhello!",
    head + "Content-Length: -1\r\n\r\n",
    head + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    head + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\nX-A: a\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\rX-A: a\r\n\r\n",
    head + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello",
    "GET / HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n",
    "HELLO\r\n\r\n",
    "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
    "GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n",
]
for i, r in enumerate(requests):
    for options in (0, 2 * 7):  # whole-ish pieces and 8-byte pieces
        write("http_head", "request-%02d-%d" % (i, options), bytes([options]) + r.encode())
responses = [
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.0 500 Oops\r\nContent-Length: 0\r\n\r\n",
]
for i, r in enumerate(responses):
    write("http_head", "response-%02d" % i, bytes([1]) + r.encode())

# Carried statistics (src/router/stats_carry.cc, layout 1): what a draining worker hands its
# successor. Little-endian; 19 exposed latency buckets, 704 histogram buckets.
import struct


def carried(series, since=1_800_000_000_000):
    out = b"LGSTATS\n" + struct.pack("<IIIqI", 1, 19, 704, since, len(series))
    for (app, slot, version, backend, pinned, requests, errors, seconds) in series:
        out += bytes([len(app)]) + app.encode() + bytes([len(slot)]) + slot.encode()
        out += struct.pack("<I", version) + bytes([len(backend)]) + backend.encode()
        out += bytes([pinned])
        out += struct.pack("<8Q", requests, requests - errors, 0, 0, errors, 0, 0, 900)
        out += struct.pack("<19Q", *([requests] + [0] * 18)) + struct.pack("<Q", 700 * requests)
        out += struct.pack("<I", len(seconds))
        for (second, n, buckets) in seconds:
            out += struct.pack("<q8QI", second, n, n, 0, 0, 0, 0, 0, 900, len(buckets))
            for (bucket, count) in buckets:
                out += struct.pack("<HQ", bucket, count)
    return out


write("carried_stats", "empty", carried([]))
write("carried_stats", "one-backend", carried([
    ("web", "production", 2, "web-2-a", 0, 100, 3, [(5000, 20, [(70, 15), (90, 5)]), (5001, 7, [(64, 7)])]),
]))
write("carried_stats", "pinned-and-two-apps", carried([
    ("api", "staging", 1, "api-1-x", 0, 5, 0, [(77, 5, [(703, 5)])]),
    ("web", "production", 3, "web-3-a", 0, 50, 10, []),
    ("web", "production", 3, "web-3-a", 1, 8, 0, [(9, 8, [(0, 8)])]),
]))

# Whole API requests (api_request): "R METHOD TARGET\nBODY" parts split by "\n~~~\n"; R is
# a(dmin), d(eployer), v(iewer) or t (a TCP caller whose bearer is the body).
import json as _json

manifest = """app: web
parameters:
  label: { default: v1 }
run:
  command: [./web, --label, '${params.label}']
  env:
    GREETING: "hello ${params.label}"
replicas: 2
route: { listen: 127.0.0.1:18080 }
progressDeadline: 10s
strategy:
  type: rolling
"""


def apply(label, name=None, what_if=False, text=manifest):
    body = {"manifest": text, "manifestDir": "/", "params": {"label": label}, "whatIf": what_if}
    if name is not None:
        body["name"] = name
    return "a POST /v1/apply\n" + _json.dumps(body)


sessions = {
    "apply-roll-promote": [apply("v1"), apply("v2", "second"), "a POST /v1/apps/web/rollback\n{}",
                           'a POST /v1/apps/web/promote\n{"version": 1}',
                           'a POST /v1/apps/web/rollforward\n{"force": true}'],
    "odd-text": [apply("\u00e9\u0007\\\"<b>", "n\u00e9\u2028"), apply("x" * 300),
                 'a POST /v1/apps/web/rollback\n{"to": 1, "force": true}'],
    "what-if": [apply("v1"), apply("v2", what_if=True), 'a POST /v1/apps/web/rollback\n{"whatIf": true}'],
    "traffic-swap": [apply("v1"), 'a POST /v1/apply\n' + _json.dumps(
        {"manifest": manifest, "slot": "staging", "params": {"label": "v2"}}),
        'a POST /v1/apps/web/traffic\n{"slot": "staging", "percent": 10}',
        'a POST /v1/apps/web/swap\n{"source": "staging", "target": "production", "action": "preview"}',
        'a POST /v1/apps/web/pause\n{}', 'a POST /v1/apps/web/abort\n{}'],
    "tokens-secrets": ['a POST /v1/tokens\n{"name": "ci", "role": "deployer"}', "a GET /v1/tokens\n",
                       "a PUT /v1/apps/web/secrets/db\nvalue", "a DELETE /v1/tokens/ci\n"],
    "refusals": ["t GET /v1/apps\nlgt_" + "0" * 64, "v POST /v1/apps/web/rollback\n{}",
                 "d POST /v1/tokens\n{}", "t GET /v1/audit\n\xff\xfe"],
    "bad-bodies": ['a POST /v1/apply\n{"manifest": 1}', "a POST /v1/apply\n[[[[[[",
                   'a POST /v1/apps/web/rollback\n{"to": 99999999999999999999}',
                   "a GET /v1/apps/web/deployments?limit=-1",
                   "a GET /v1/apps/web/deployments/x?since=1&wait=99999999",
                   "a GET /v1/apps/web/diff?a=1&b=zz", "a GET /v1/apps/%2e%2e/versions/1"],
}
for name, parts in sessions.items():
    write("api_request", name, "\n~~~\n".join(parts))
