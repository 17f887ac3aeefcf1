#!/usr/bin/env python3
"""Side-by-side chaos scenarios: Bulwark, Bulwark+hedging, HAProxy and NGINX under the same
open-loop load while one of three upstreams (or all) is faulted and then healed.

    chaos.py run [--duration 36] [--rate 200] [--scenarios blackhole,503,...] [--work DIR] [--jar JAR]
    chaos.py report WORKDIR        # re-read a run's raw files, print the Markdown report

Per scenario, fresh upstreams (upstreams.py) and fresh proxies are started, so no state (an
ejection multiplier, a readmit guard, nginx's fail counters) leaks from one scenario to the next.
All four proxies front the same three upstreams and are loaded at the same time by one open-loop
client each (openloop.py), so they see the very same fault at the very same moment. Timeline:
healthy until 28 % of the duration, the fault from 28 % to 61 %, healed after (10 s / 12 s / 14 s
for 36 s). Everything listens on 127.0.0.1, ports CHAOS_PORT_BASE (19300) + 1..15.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BASE = int(os.environ.get("CHAOS_PORT_BASE", "19300"))
UP = [BASE + 1, BASE + 2, BASE + 3]
CONTROL = BASE + 4
CONTENDERS = {  # name -> (proxy port, admin port or None)
    "bulwark": (BASE + 10, BASE + 11),
    "bulwark-hedge": (BASE + 12, BASE + 13),
    "haproxy": (BASE + 14, None),
    "nginx": (BASE + 15, None),
}
SCENARIOS = {  # name -> what happens to whom during the fault window
    "blackhole": "up2 accepts and reads requests, never answers",
    "503": "up2 answers 503 to everything (its /health too)",
    "reset": "up2 reads each request, then resets the connection",
    "refused": "up2 stops listening (connects refused, open connections reset)",
    "slow": "up2 answers everything after 2 s",
    "flap": "up2 alternates refused 2 s / ok 2 s",
    "alldown": "all three upstreams refuse connections",
}
FAULTED = "up2"


# ---------------------------------------------------------------- configs
def bulwark_conf(port, admin, hedge):
    ups = ", ".join(f'"127.0.0.1:{p}"' for p in UP)
    latency = ", latency { threshold = 50ms }" if hedge else ""
    hedge_block = ",\n               hedge { delay = 50ms }" if hedge else ""
    return f"""bulwark {{
  listener {{ host = "127.0.0.1", port = {port} }}
  admin {{ port = {admin} }}
  clusters.app {{
    endpoints = [ {ups} ]
    connect-timeout = 1s
    # Envoy's (and the contract's) default of 3 retries in flight per cluster turns a 1 s black hole
    # at 200 req/s into 504s; the retry budget (20% of requests in flight) still bounds a storm.
    limits {{ max-concurrent-retries = 64 }}
    health-check {{ path = "/health", interval = 500ms, timeout = 500ms, unhealthy-threshold = 2, healthy-threshold = 2,
                    transition-interval = 100ms }}
    outlier-detection {{ readmit = probe{latency} }}
  }}
  routes = [ {{ name = app, match {{ path-prefix = "/" }}, cluster = app,
               retry {{ max-retries = 2, per-try-timeout = 1s, retry-on = [connect-failure, reset, timeout, gateway-error] }}{hedge_block} }} ]
}}
"""


def haproxy_conf(port):
    # fastinter: HAProxy's checks while a server is changing state, like Bulwark's transition-interval
    servers = "\n".join(f"  server up{i + 1} 127.0.0.1:{p} check inter 500 fastinter 100 fall 2 rise 2"
                        for i, p in enumerate(UP))
    return f"""global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout server 1s
  timeout client 30s
  timeout check 500ms
  retries 2
  option redispatch 1
  retry-on all-retryable-errors
  option http-keep-alive
frontend fe
  bind 127.0.0.1:{port}
  default_backend app
backend app
  balance roundrobin
  option httpchk GET /health
  http-reuse safe
{servers}
"""


def nginx_conf(port, d, ups=None, extra=""):
    """NGINX in front of `ups` (default the chaos upstreams); `extra` goes on each server line."""
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s{extra};" for p in (ups or UP))
    return f"""worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log error;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  upstream app {{
    zone app 64k;
{servers}
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 1s;
      proxy_read_timeout 1s;
      proxy_send_timeout 1s;
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_next_upstream_tries 3;
      add_header x-upstream-addr $upstream_addr always;
    }}
  }}
}}
"""


# ---------------------------------------------------------------- processes
def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def http_get(url, timeout=3):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def start_proxies(d, jar):
    procs = {}
    for name, hedge in (("bulwark", False), ("bulwark-hedge", True)):
        port, admin = CONTENDERS[name]
        conf = f"{d}/{name}.conf"
        open(conf, "w").write(bulwark_conf(port, admin, hedge))
        procs[name] = subprocess.Popen(
            ["java", "-Xmx128m", "-XX:+UseSerialGC", "-Dbulwark.access.level=OFF", "-jar", jar,
             "run", "--config", conf], stdout=open(f"{d}/{name}.log", "w"), stderr=subprocess.STDOUT)
    open(f"{d}/haproxy.cfg", "w").write(haproxy_conf(CONTENDERS["haproxy"][0]))
    procs["haproxy"] = subprocess.Popen(["haproxy", "-db", "-f", f"{d}/haproxy.cfg"],
                                        stdout=open(f"{d}/haproxy.log", "w"), stderr=subprocess.STDOUT)
    open(f"{d}/nginx.conf", "w").write(nginx_conf(CONTENDERS["nginx"][0], d))
    procs["nginx"] = subprocess.Popen(["nginx", "-e", f"{d}/nginx-error.log", "-p", d + "/", "-c",
                                       f"{d}/nginx.conf"], stdout=open(f"{d}/nginx.log", "w"),
                                      stderr=subprocess.STDOUT)
    for name, (port, admin) in CONTENDERS.items():
        if not wait_port(port):
            raise SystemExit(f"{name} did not start; see {d}/{name}.log")
    for name in ("bulwark", "bulwark-hedge"):  # all three health-checked healthy first
        admin = CONTENDERS[name][1]
        for _ in range(100):
            try:
                if http_get(f"http://127.0.0.1:{admin}/api/v1/clusters/app").count('"health":"healthy"') == 3:
                    break
            except OSError:
                pass
            time.sleep(0.1)
    return procs


def stop(procs):
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Control:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", CONTROL))
        self.f = self.s.makefile("rw")

    def send(self, line):
        self.f.write(line + "\n")
        self.f.flush()
        return self.f.readline().strip()


def run_scenario(name, d, jar, duration, rate, log):
    os.makedirs(d, exist_ok=True)
    ups = subprocess.Popen([sys.executable, f"{HERE}/upstreams.py", f"{d}/arrivals.tsv", str(CONTROL)]
                           + [str(p) for p in UP], stdout=subprocess.PIPE, stderr=open(f"{d}/upstreams.err", "w"))
    procs = {}
    try:
        assert ups.stdout.readline().strip() == b"ready"
        procs = start_proxies(d, jar)
        ctl = Control()
        fault_at, heal_at = round(duration * 0.28, 1), round(duration * 0.61, 1)
        # warm-up (JIT, pools, nginx/haproxy keep-alive connections): 3 s of the same load, not recorded
        warm = [subprocess.Popen([sys.executable, f"{HERE}/openloop.py", c, str(port), str(rate), "3",
                                  f"{time.time() + 0.3:.6f}", f"{d}/warmup-{c}.tsv"])
                for c, (port, _) in CONTENDERS.items()]
        for w in warm:
            w.wait()
        t0 = time.time() + 1.0
        clients = [subprocess.Popen([sys.executable, f"{HERE}/openloop.py", c, str(port), str(rate),
                                     str(duration), f"{t0:.6f}", f"{d}/client-{c}.tsv"])
                   for c, (port, _) in CONTENDERS.items()]
        actions = []

        def at(t, *lines):
            delay = t0 + t - time.time()
            if delay > 0:
                time.sleep(delay)
            for line in lines:
                ctl.send(line)
            actions.append([round(time.time() - t0, 3), list(lines)])

        targets = ["up1", "up2", "up3"] if name == "alldown" else [FAULTED]
        mode = {"alldown": "refused", "flap": "refused"}.get(name, name)
        if name == "flap":
            t, down = fault_at, True
            while t < heal_at - 0.01:
                at(t, f"{FAULTED} {'refused' if down else 'ok'}")
                t, down = t + 2.0, not down
        else:
            at(fault_at, *[f"{u} {mode}" for u in targets])
        at(heal_at, *[f"{u} ok" for u in targets])
        for c in clients:
            c.wait()
        ctl.send("flush")
        for c, (_, admin) in CONTENDERS.items():
            if admin:
                for what in ("recovery", "events?limit=10000", "metrics"):
                    try:
                        body = http_get(f"http://127.0.0.1:{admin}/" + (what if what == "metrics" else f"api/v1/{what}"))
                    except OSError as e:
                        body = json.dumps({"error": str(e)})
                    open(f"{d}/{c}-{what.split('?')[0]}.json", "w").write(body)
        json.dump({"scenario": name, "what": SCENARIOS[name], "t0": t0, "duration": duration, "rate": rate,
                   "fault_at": fault_at, "heal_at": heal_at, "faulted": targets, "actions": actions},
                  open(f"{d}/meta.json", "w"), indent=1)
        log(f"{name}: done")
    finally:
        stop(procs)
        ups.terminate()
        ups.wait()


# ---------------------------------------------------------------- report
def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def load_client(path):
    rows = []
    for line in open(path):
        i, due, lat, st, err, ups, addr = line.rstrip("\n").split("\t")
        rows.append({"i": int(i), "due": float(due), "lat": float(lat), "status": int(st), "err": err,
                     "ups": ups, "addr": addr})
    return rows


def analyse(d):
    meta = json.load(open(f"{d}/meta.json"))
    t0, F, H = meta["t0"], meta["fault_at"], meta["heal_at"]
    faulted = meta["faulted"]
    fport = {f"up{i + 1}": f"127.0.0.1:{p}" for i, p in enumerate(UP)}
    arrivals = {}  # contender -> list of (arrival_s, request index) at faulted hosts
    for line in open(f"{d}/arrivals.tsv"):
        ts, up, chaos, _ = line.rstrip("\n").split("\t")
        if up in faulted and chaos != "-":
            c, _, i = chaos.rpartition("-")
            arrivals.setdefault(c, []).append((float(ts) - t0, int(i)))
    out = {}
    for c in CONTENDERS:
        rows = load_client(f"{d}/client-{c}.tsv")
        due = {r["i"]: r["due"] for r in rows}
        bad = [r for r in rows if not (200 <= r["status"] < 300)]
        during = [r["lat"] for r in rows if F <= r["due"] < H]
        res = {"requests": len(rows), "errors": len(bad), "slow": sum(r["lat"] > 500 for r in rows),
               "p99_fault": pct(during, 99), "p50_fault": pct(during, 50),
               "err_codes": {}}
        for r in bad:
            k = f'{r["status"]}{"/" + r["err"] if r["err"] != "-" else ""}'
            res["err_codes"][k] = res["err_codes"].get(k, 0) + 1
        # detection: last request (by send time) that reached a faulted host during the fault
        hits = [due[i] for (ts, i) in arrivals.get(c, []) if F <= due.get(i, -1) < H]
        if meta["scenario"] == "refused" or meta["scenario"] == "flap":  # nothing arrives at a refused port
            addr_hits = [r["due"] for r in rows if F <= r["due"] < H and fport[FAULTED] in r["addr"].split(",")]
            hits = hits + addr_hits
        res["hits_in_fault"] = len(hits)
        res["detect_ms"] = None if meta["scenario"] in ("alldown", "flap") else \
            (round((max(hits) - F) * 1000) if hits else 0)
        res["detect_observable"] = not (meta["scenario"] == "refused" and c != "nginx")
        # back in service: first request sent after the heal that the healed host answered
        if meta["scenario"] == "alldown":
            back = [r["due"] for r in rows if r["due"] >= H and 200 <= r["status"] < 300]
        else:
            back = [r["due"] for r in rows if r["due"] >= H and r["ups"] in faulted and r["status"] == 200]
        res["back_ms"] = round((min(back) - H) * 1000) if back else None
        last_err = [r["due"] for r in rows if r["due"] >= H and not (200 <= r["status"] < 300)]
        res["errors_after_heal"] = len(last_err)
        if CONTENDERS[c][1]:
            try:
                rec = json.load(open(f"{d}/{c}-recovery.json"))
                res["recovery"] = pick_recovery(rec, [fport[u] for u in faulted])
            except (OSError, ValueError):
                res["recovery"] = None
            res["refused_retries"] = metric_sum(f"{d}/{c}-metrics.json",
                                                ("bulwark_retry_budget_exhausted_total", "bulwark_retry_limit_reached_total"))
        out[c] = (res, rows)
    return meta, out


def metric_sum(path, names):
    """Sum of Prometheus counters (any labels) in a saved /metrics text; None if unreadable."""
    try:
        total = 0.0
        for line in open(path):
            if line.split("{")[0].split(" ")[0] in names:
                total += float(line.rsplit(" ", 1)[1])
        return int(total)
    except (OSError, ValueError, IndexError):
        return None


def pick_recovery(rec, addrs):
    """The faulted upstream's latest episode times from /api/v1/recovery (shape-tolerant)."""
    found = []

    def walk(o):
        if isinstance(o, dict):
            a = o.get("address") or o.get("upstream") or o.get("endpoint")
            if isinstance(a, str) and a in addrs and "time_to_detect_ms" in o:
                found.append(o)
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(rec)
    return [dict({k: f.get(k) for k in ("time_to_detect_ms", "time_to_readmit_ms", "time_to_full_share_ms")},
                 episodes=len(f.get("episodes") or [])) for f in found]


def fmt(v, unit=""):
    return "—" if v is None else f"{v}{unit}"


def report(work):
    scen = sorted(s for s in os.listdir(work) if os.path.exists(f"{work}/{s}/meta.json"))
    order = [s for s in SCENARIOS if s in scen]
    lines = []
    first = json.load(open(f"{work}/{order[0]}/meta.json"))
    lines.append(f"Open-loop {first['rate']} req/s per contender, all four at once, {first['duration']} s per "
                 f"scenario: healthy until {first['fault_at']} s, fault until {first['heal_at']} s, then healed. "
                 "Upstreams up1..up3 (Python), faulted host up2.\n")
    lines.append("| scenario | contender | requests | client errors | > 500 ms | p50 / p99 in fault (ms) | "
                 "time to detect | back in service after heal | errors after heal | Bulwark /api/v1/recovery "
                 "(detect / readmit / full share, ms) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for s in order:
        meta, res = analyse(f"{work}/{s}")
        for c, (r, _) in res.items():
            errs = str(r["errors"])
            if r.get("refused_retries"):
                r["err_codes"]["retries refused by budget/limit"] = r["refused_retries"]
            if r["err_codes"]:
                errs += " (" + ", ".join(f"{k}: {v}" for k, v in sorted(r["err_codes"].items())) + ")"
            if s == "alldown" or s == "flap":
                det = f"n/a ({r['hits_in_fault']} hits)" if s == "flap" else "n/a"
            elif not r["detect_observable"]:
                det = "not visible (refused)"
            else:
                det = f"{r['detect_ms']} ms ({r['hits_in_fault']} hits)"
            rec = r.get("recovery")
            if rec is None:
                recs = "" if CONTENDERS[c][1] is None else "—"
            else:
                recs = "; ".join(f"{fmt(e['time_to_detect_ms'])} / {fmt(e['time_to_readmit_ms'])} / "
                                 f"{fmt(e['time_to_full_share_ms'])}"
                                 + (f" (latest of {e['episodes']} episodes)" if e["episodes"] > 1 else "")
                                 for e in rec) or "no episode"
            p = f"{fmt(r['p50_fault'] and round(r['p50_fault']))} / {fmt(r['p99_fault'] and round(r['p99_fault']))}"
            lines.append(f"| {s} | {c} | {r['requests']} | {errs} | {r['slow']} | {p} | {det} | "
                         f"{fmt(r['back_ms'], ' ms')} | {r['errors_after_heal']} | {recs} |")
    return "\n".join(lines) + "\n"


def timeline(work, scenario, png):
    """Per-100 ms max latency and error count per contender, drawn with gnuplot (pngcairo)."""
    d = f"{work}/{scenario}"
    meta, res = analyse(d)
    dat = f"{d}/timeline.dat"
    with open(dat, "w") as f:
        for ci, (c, (_, rows)) in enumerate(res.items()):
            f.write(f"# {c}\n")
            buckets = {}
            for r in rows:
                b = int(r["due"] * 10)
                lat, err = buckets.get(b, (0.0, 0))
                buckets[b] = (max(lat, r["lat"]), err + (not (200 <= r["status"] < 300)))
            for b in sorted(buckets):
                f.write(f"{b / 10:.1f} {max(buckets[b][0], 0.1):.2f} {buckets[b][1]}\n")
            f.write("\n\n")
    if not shutil.which("gnuplot"):
        print("gnuplot not found (apt-get install -y gnuplot-nox): no PNG; data in", dat, file=sys.stderr)
        return False
    names = list(res)
    plot_lat = ", ".join(f"'{dat}' index {i} using 1:2 with steps lw 1.5 title '{n}'" for i, n in enumerate(names))
    plot_err = ", ".join(f"'{dat}' index {i} using 1:3 with steps lw 1.5 title '{n}'" for i, n in enumerate(names))
    F, H = meta["fault_at"], meta["heal_at"]
    script = f"""set terminal pngcairo size 1200,800 font 'sans,10'
set output '{png}'
set lmargin 12
set multiplot layout 2,1 title '{scenario}: {SCENARIOS[scenario]} from {F} s to {H} s; open loop {meta['rate']} req/s per proxy'
set object 1 rect from {F}, graph 0 to {H}, graph 1 behind fc rgb '#ffe0e0' fs solid noborder
set xrange [0:{meta['duration']}]
set logscale y
set ylabel 'max latency per 100 ms (ms, log)'
set key top left
set grid
plot {plot_lat}
unset logscale y
set ylabel 'client errors per 100 ms'
set xlabel 'seconds since load start'
plot {plot_err}
unset multiplot
"""
    open(f"{d}/timeline.gp", "w").write(script)
    subprocess.run(["gnuplot", f"{d}/timeline.gp"], check=True)
    return True


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--duration", type=float, default=36)
    r.add_argument("--rate", type=float, default=200)
    r.add_argument("--scenarios", default=",".join(SCENARIOS))
    r.add_argument("--work", default=None)
    r.add_argument("--jar", default=f"{ROOT}/proxy/target/bulwark.jar")
    r.add_argument("--results", default=None, help="copy report + black-hole PNG here, dated")
    p = sub.add_parser("report")
    p.add_argument("work")
    a = ap.parse_args()
    if a.cmd == "report":
        print(report(a.work))
        return
    if not os.path.exists(a.jar):
        raise SystemExit(f"no jar at {a.jar}; build first: mvn -B -ntp -q -DskipTests package")
    for tool in ("java", "nginx", "haproxy"):
        if not shutil.which(tool):
            raise SystemExit(f"missing: {tool}")
    for port in UP + [CONTROL] + [p for v in CONTENDERS.values() for p in v if p]:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            raise SystemExit(f"port {port} is in use; pick another block with CHAOS_PORT_BASE")
        except OSError:
            pass
    work = a.work or tempfile.mkdtemp(prefix="bulwark-chaos.")
    print("work dir:", work, flush=True)
    for s in a.scenarios.split(","):
        if s not in SCENARIOS:
            raise SystemExit(f"unknown scenario {s}; known: {', '.join(SCENARIOS)}")
        run_scenario(s, f"{work}/{s}", a.jar, a.duration, a.rate, lambda m: print(m, flush=True))
    text = report(work)
    open(f"{work}/report.md", "w").write(text)
    print(text)
    shown = "blackhole" if "blackhole" in a.scenarios.split(",") else a.scenarios.split(",")[0]
    png = f"{work}/timeline-{shown}.png"
    made = timeline(work, shown, png)
    if a.results:
        os.makedirs(a.results, exist_ok=True)
        day = time.strftime("%Y-%m-%d")
        shutil.copy(f"{work}/report.md", f"{a.results}/chaos-{day}.md")
        if made:
            shutil.copy(png, f"{a.results}/chaos-{day}-{shown}.png")
        print("results in", a.results)


if __name__ == "__main__":
    main()
