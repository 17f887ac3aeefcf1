#!/usr/bin/env python3
"""Failover onto survivors that cannot carry the load: Bulwark with and without its adaptive
concurrency limit, next to HAProxy and NGINX, in one run (see loadtests/README.md).

    overload.py [--rate 200] [--duration 40] [--kill-at 10] [--workers 2] [--work-ms 20]
                [--jar proxy/target/bulwark.jar] [--results loadtests/results]

Each contender gets its own three capacity-limited upstreams (capacity_upstreams.py: WORKERS
workers each, WORK_MS per request, an unbounded queue past that), so one contender's overload
never slows another's. Open-loop load at RATE per contender (openloop.py); at KILL_AT seconds two
of each contender's three upstreams stop (connections refused). With the defaults a survivor serves
100 req/s against 200 offered: it cannot carry the load, whatever the proxy does. The question is
what the clients get: with a limit, the survivor should keep answering at near its normal latency
and the excess be refused fast; without one, the queue in front of it grows until everything times
out. Reported per contender over the overloaded part (from KILL_AT + 2 s): goodput (200s a second),
p50/p99 of the 200s, refusals answered fast (under 100 ms), errors that took long (timeouts), and
the same for the healthy part before the kill.
Needs java 17, nginx, haproxy, python3.
"""
import argparse
import datetime
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import chaos  # the chaos scenarios' NGINX config, in this directory

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BASE = 19300

CONTENDERS = ["bulwark", "bulwark-adaptive", "haproxy", "nginx"]


def ports(i):
    """(proxy port, admin port, [3 upstream ports]) of contender i."""
    b = BASE + 10 * i
    return b, b + 1, [b + 2, b + 3, b + 4]


def bulwark_conf(i, adaptive):
    port, admin, ups = ports(i)
    endpoints = ", ".join(f'"127.0.0.1:{p}"' for p in ups)
    limit = ", adaptive { min-limit = 2, max-limit = 256, initial-limit = 16 }" if adaptive else ""
    return f"""bulwark {{
  listener {{ host = "127.0.0.1", port = {port} }}
  admin {{ port = {admin} }}
  access-log {{ enabled = false }}
  clusters.app {{
    endpoints = [ {endpoints} ]
    connect-timeout = 1s
    # Both Bulwarks alike but for the adaptive block: retries as HAProxy/NGINX may make them (the
    # contract's default of 3 in flight refuses most of a failover's retries at this rate), and no
    # panic mode (it would spread the load over the two dead hosts: a survivor guard of its own).
    panic-threshold = 0
    limits {{ max-concurrent-retries = 64{limit} }}
    health-check {{ path = "/health", interval = 500ms, timeout = 500ms, unhealthy-threshold = 2, healthy-threshold = 2 }}
  }}
  routes = [ {{ name = app, match {{ path-prefix = "/" }}, cluster = app, timeout = 2s,
               retry {{ max-retries = 2, per-try-timeout = 1s, retry-on = [connect-failure, reset, timeout, gateway-error] }} }} ]
}}
"""


def haproxy_conf(i):
    port, _, ups = ports(i)
    # maxconn per server with a queue timeout is HAProxy's own static protection; 8 is four times
    # the true worker count, a plausible operator's guess (it cannot know the real capacity).
    servers = "\n".join(f"  server up{k + 1} 127.0.0.1:{p} check inter 500 fastinter 100 fall 2 rise 2 maxconn 8"
                        for k, p in enumerate(ups))
    return f"""global
  maxconn 8192
defaults
  mode http
  timeout connect 1s
  timeout client 10s
  timeout server 1s
  timeout queue 1s
  retries 2
  option redispatch 1
  retry-on conn-failure empty-response response-timeout 502 503 504
  option httpchk GET /health
frontend fe
  bind 127.0.0.1:{port}
  default_backend be
backend be
  balance roundrobin
{servers}
"""


def nginx_conf(i, d):
    port, _, ups = ports(i)
    # max_conns is NGINX open source's per-server limit: 8, as HAProxy's maxconn above.
    return chaos.nginx_conf(port, d, ups, " max_conns=8")


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port} after {timeout}s")


def control(port, line):
    with socket.create_connection(("127.0.0.1", port), 2) as s:
        s.sendall((line + "\n").encode())
        s.recv(16)


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def summarise(path, lo, hi):
    rows = []
    for line in open(path):
        _, due, ms, status, err, *_ = line.rstrip("\n").split("\t")
        due, ms, status = float(due), float(ms), int(status)
        if lo <= due < hi:
            rows.append((ms, status, err))
    ok = [ms for ms, st, _ in rows if st == 200]
    bad = [(ms, st, err) for ms, st, err in rows if st != 200]
    fast = [b for b in bad if b[0] < 100]
    return {
        "requests": len(rows),
        "goodput": len(ok) / (hi - lo),
        "p50": pct(ok, 50), "p99": pct(ok, 99),
        "errors": len(bad),
        "fast_refusals": len(fast),
        "slow_errors": len(bad) - len(fast),
        "codes": sorted({f"{st}{'' if e == '-' else ' ' + e}" for _, st, e in bad}),
    }


def fmt(v, unit=""):
    return "—" if v is None else f"{v:,.0f}{unit}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--duration", type=float, default=40)
    ap.add_argument("--kill-at", type=float, default=10)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work-ms", type=float, default=20)
    ap.add_argument("--jar", default=os.path.join(ROOT, "proxy", "target", "bulwark.jar"))
    ap.add_argument("--results", default=os.path.join(ROOT, "loadtests", "results"))
    a = ap.parse_args()
    d = tempfile.mkdtemp(prefix="bulwark-overload-")
    procs = []
    ctl = BASE + 99

    def start(cmd, log, **kw):
        p = subprocess.Popen(cmd, stdout=open(f"{d}/{log}", "w"), stderr=subprocess.STDOUT, **kw)
        procs.append(p)
        return p

    try:
        all_ups = [p for i in range(len(CONTENDERS)) for p in ports(i)[2]]
        start([sys.executable, f"{HERE}/capacity_upstreams.py", str(ctl), str(a.workers), str(a.work_ms)]
              + [str(p) for p in all_ups], "upstreams.log")
        for p in all_ups + [ctl]:
            wait_port(p)
        for i, name in enumerate(CONTENDERS):
            if name.startswith("bulwark"):
                conf = f"{d}/{name}.conf"
                open(conf, "w").write(bulwark_conf(i, name == "bulwark-adaptive"))
                start(["java", "-XX:+UseSerialGC", "-Xmx128m", "-jar", a.jar, "run", "--config", conf], f"{name}.log")
            elif name == "haproxy":
                open(f"{d}/haproxy.cfg", "w").write(haproxy_conf(i))
                start(["haproxy", "-db", "-f", f"{d}/haproxy.cfg"], "haproxy.log")
            else:
                os.makedirs(f"{d}/nginx", exist_ok=True)
                open(f"{d}/nginx/nginx.conf", "w").write(nginx_conf(i, f"{d}/nginx"))
                start(["nginx", "-c", f"{d}/nginx/nginx.conf", "-p", f"{d}/nginx"], "nginx.log")
        for i in range(len(CONTENDERS)):
            wait_port(ports(i)[0])
        time.sleep(3)  # health checks see every upstream up
        t0 = time.time() + 1
        clients = [start([sys.executable, f"{HERE}/openloop.py", name, str(ports(i)[0]), str(a.rate),
                          str(a.duration), f"{t0:.3f}", f"{d}/{name}.tsv"], f"{name}-client.log")
                   for i, name in enumerate(CONTENDERS)]
        time.sleep(max(0, t0 + a.kill_at - time.time()))
        for i in range(len(CONTENDERS)):
            for p in ports(i)[2][:2]:
                control(ctl, f"{p} refused")
        for c in clients:
            c.wait()
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()

    before = {c: summarise(f"{d}/{c}.tsv", 2, a.kill_at) for c in CONTENDERS}
    after = {c: summarise(f"{d}/{c}.tsv", a.kill_at + 2, a.duration) for c in CONTENDERS}
    capacity = a.workers * 1000 / a.work_ms
    lines = [
        f"# Overload after failover — {datetime.date.today()}",
        "",
        f"Three upstreams per contender, each {a.workers} workers x {a.work_ms:g} ms ({capacity:,.0f} req/s, an "
        f"unbounded queue past that); {a.rate:g} req/s open-loop per contender; two upstreams stopped at "
        f"{a.kill_at:g} s, so the survivor is offered {a.rate / capacity:.1f}x what it can serve. Bulwark: 2 s route "
        "timeout, 1 s per try, 2 retries, checks every 500 ms, `max-concurrent-retries = 64`, no panic mode; "
        "`bulwark-adaptive` adds `limits.adaptive`. "
        "HAProxy and NGINX: the same timeouts and retries, `maxconn 8` / `max_conns=8` per server. "
        f"Machine: {os.cpu_count()} cores, shared; all contenders at once. Work dir: `{d}`.",
        "",
        "| contender | healthy: goodput, p99 | overloaded: goodput (req/s) | p50 / p99 of 200s | errors | "
        "of them fast (<100 ms) | slow | error kinds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in CONTENDERS:
        b, s = before[c], after[c]
        lines.append(f"| {c} | {fmt(b['goodput'])}/s, {fmt(b['p99'], ' ms')} | {fmt(s['goodput'])} | "
                     f"{fmt(s['p50'], ' ms')} / {fmt(s['p99'], ' ms')} | {s['errors']:,} | {s['fast_refusals']:,} | "
                     f"{s['slow_errors']:,} | {', '.join(s['codes'][:4]) or '—'} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if a.results:
        os.makedirs(a.results, exist_ok=True)
        out = os.path.join(a.results, f"overload-{datetime.date.today()}.md")
        open(out, "w").write(report)
        print(f"report: {out}")
    shutil.rmtree(d, ignore_errors=True) if os.environ.get("KEEP") is None else None


if __name__ == "__main__":
    main()
