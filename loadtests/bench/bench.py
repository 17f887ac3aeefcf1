#!/usr/bin/env python3
"""Bulwark next to NGINX and HAProxy, every scenario of issue #12, in one run.

Not a test: absolute numbers on a shared machine are noise; read the ratios, which are taken
between contenders measured in the same round. Run it through bench.sh, which installs the peers.

Each contender runs alone on the proxy core (taskset), in front of the same three nginx upstreams
(round robin), with wrk and the upstreams on the other core. The contenders take turns in
rotated order (A B C D, B C D A, ...), so drift hits all alike; each turn starts the contender
afresh (start to ready is timed from exec to the first proxied 200), warms it up and runs every
scenario against it:

  get      small GET (~128-byte body), keep-alive, 64 connections
  post16k  16 KiB POST bodies, keep-alive, 64 connections
  get1m    1 MiB responses, keep-alive, 16 connections
  newconn  a new connection per request (Connection: close), 64 connections
  idle10k  10,000 idle keep-alive connections held open (each sent one request), then small GETs
           over 64 more; RSS with them all open, and how many are still open at the end

'bulwark-log' is Bulwark with its JSON access log on (stdout to a file) and runs 'get' only.
Per run: req/s, p50/p99/p99.9, errors (socket errors and non-2xx), the proxy's CPU time per
request (utime+stime of its processes over the run / requests), its peak RSS during the run
(VmHWM, reset before each scenario) and for idle10k its RSS with the connections open.
"""
import argparse
import asyncio
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HZ = os.sysconf("SC_CLK_TCK")
SMALL_BODY = ("hello from nginx, a small body of about a hundred and twenty-eight bytes "
              "for the proxy benchmark of issue twelve, padded....\n")
SCENARIOS = ["get", "post16k", "get1m", "newconn", "idle10k"]
CONTENDERS = ["nginx", "haproxy", "bulwark", "bulwark-log"]
PEERS = ["nginx", "haproxy"]
JVM_FLAGS = ["-XX:+UseSerialGC", "-Xms16m", "-Xmx64m", "-Xss512k", "-XX:MaxMetaspaceSize=64m",
             "-XX:ReservedCodeCacheSize=48m", "-XX:-UsePerfData", "-XX:+ExitOnOutOfMemoryError"]


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


class Bench:
    def __init__(self, args):
        self.a = args
        self.work = tempfile.mkdtemp(prefix="bulwark-bench-")
        os.chmod(self.work, 0o755)  # nginx workers run as an unprivileged user and read the docroot
        self.base = args.port_base
        self.up_ports = [self.base + i for i in range(3)]
        self.proxy_port = self.base + 10
        self.admin_port = self.base + 11
        self.pin_proxy = ["taskset", "-c", str(args.proxy_cpu)] if shutil.which("taskset") else []
        self.pin_load = ["taskset", "-c", str(args.load_cpu)] if shutil.which("taskset") else []
        self.upstreams = []
        self.fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        # HAProxy reserves two descriptors per connection it may hold (client and server side).
        self.haproxy_maxconn = min(30000, (self.fd_limit - 100) // 2)
        self.results = []      # dicts: round, contender, scenario, figures
        self.starts = []       # dicts: round, contender, start_ms, rss_idle_mib
        self.jit_share = []    # Bulwark: the JIT's share of the last warm-up round

    # ---------------------------------------------------------------- upstreams
    def write_upstreams(self):
        docroot = os.path.join(self.work, "www")
        os.makedirs(docroot, exist_ok=True)
        with open(os.path.join(docroot, "big"), "wb") as f:
            f.write(os.urandom(1024 * 1024))
        for port in self.up_ports:
            conf = os.path.join(self.work, f"up-{port}.conf")
            with open(conf, "w") as f:
                f.write(f"""worker_processes 1; daemon off; pid {self.work}/up-{port}.pid;
error_log {self.work}/up-{port}-error.log; worker_rlimit_nofile 30000;
events {{ worker_connections 20000; }}
http {{ access_log off; keepalive_requests 100000000; client_body_buffer_size 32k;
  server {{ listen 127.0.0.1:{port} backlog=4096; root {docroot};
    location = /big {{ }}
    location / {{ return 200 "{SMALL_BODY.strip()}\\n"; }} }} }}
""")
            self.upstreams.append(subprocess.Popen(self.pin_load + ["nginx", "-c", conf],
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in self.up_ports:
            wait_http(port, "/", 10)

    # ---------------------------------------------------------------- contenders
    def contender_cmd(self, name):
        p, ups = self.proxy_port, self.up_ports
        if name == "nginx":
            conf = os.path.join(self.work, "proxy-nginx.conf")
            servers = " ".join(f"server 127.0.0.1:{u};" for u in ups)
            with open(conf, "w") as f:
                f.write(f"""worker_processes 1; daemon off; pid {self.work}/proxy-nginx.pid;
error_log {self.work}/proxy-nginx-error.log; worker_rlimit_nofile 30000;
events {{ worker_connections 20000; }}
http {{ access_log off; keepalive_requests 100000000; client_body_buffer_size 32k;
  upstream app {{ {servers} keepalive 128; }}
  server {{ listen 127.0.0.1:{p} backlog=4096;
    location / {{ proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503; proxy_max_temp_file_size 0; }} }} }}
""")
            return ["nginx", "-c", conf], None
        if name == "haproxy":
            conf = os.path.join(self.work, "proxy-haproxy.cfg")
            servers = "\n".join(f"  server s{i} 127.0.0.1:{u}" for i, u in enumerate(ups))
            with open(conf, "w") as f:
                f.write(f"""global
  nbthread 1
  maxconn {self.haproxy_maxconn}
  ulimit-n {self.fd_limit}
  log stderr format raw local0 err
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 30s
  option http-keep-alive
  retries 2
  option redispatch
frontend fe
  bind 127.0.0.1:{p}
  default_backend be
backend be
  balance roundrobin
  http-reuse always
{servers}
""")
            return ["haproxy", "-f", conf], None
        log_on = name == "bulwark-log"
        conf = os.path.join(self.work, f"{name}.conf")
        endpoints = ", ".join(f'"127.0.0.1:{u}"' for u in ups)
        with open(conf, "w") as f:
            # The resilience defaults are on (outlier detection, circuit breaker, retries); they
            # are spelled out so that a change of default does not silently change the benchmark.
            f.write(f"""bulwark {{
  access-log {{ enabled = {"true" if log_on else "false"} }}
  listener {{ host = "127.0.0.1", port = {p}, max-connections = 30000 }}
  admin {{ host = "127.0.0.1", port = {self.admin_port} }}
  clusters {{ app {{
    endpoints = [ {endpoints} ]
    outlier-detection {{ consecutive-5xx = 5 }}
    circuit-breaker {{ }}
  }} }}
  routes = [ {{ name = app, match {{ path-prefix = "/" }}, cluster = app, retry {{ }} }} ]
}}
""")
        return (["java"] + JVM_FLAGS + ["-Dbulwark.workers=1", "-jar", self.a.jar, "run", "--config", conf],
                {"MALLOC_ARENA_MAX": "2"})

    def start(self, name):
        cmd, extra_env = self.contender_cmd(name)
        env = dict(os.environ, **(extra_env or {}))
        out = open(os.path.join(self.work, f"{name}.out"), "wb")
        t0 = time.monotonic()
        proc = subprocess.Popen(self.pin_proxy + cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        if not wait_http(self.proxy_port, "/", 30, proc):
            raise SystemExit(f"{name} did not become ready; see {out.name}")
        return proc, (time.monotonic() - t0) * 1000

    def stop(self, proc):
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wait_port_free(self.proxy_port, 10)

    # ---------------------------------------------------------------- load
    def wrk(self, scenario, seconds, conns=None):
        lua = os.path.join(self.work, f"{scenario}.lua")
        if not os.path.exists(lua):
            with open(lua, "w") as f:
                f.write(wrk_script(scenario))
        path = "/big" if scenario == "get1m" else "/"
        c = conns or (16 if scenario == "get1m" else 64)
        out = subprocess.run(self.pin_load + ["wrk", "-t1", f"-c{c}", f"-d{seconds}s", "--timeout", "5s",
                                              "-s", lua, f"http://127.0.0.1:{self.proxy_port}{path}"],
                             capture_output=True, text=True).stdout
        line = [l for l in out.splitlines() if l.startswith("JSON ")]
        if not line:
            raise SystemExit(f"wrk gave no result:\n{out}")
        return json.loads(line[-1][5:])

    def run_scenario(self, name, proc, scenario):
        pids = tree(proc.pid)
        for pid in pids:
            reset_peak(pid)
        idle = None
        if scenario == "idle10k":
            idle = IdleConnections(self.proxy_port, self.a.idle)
            idle.open()
        t0 = cpu_ticks(pids)
        w = self.wrk("get" if scenario == "idle10k" else scenario, self.a.seconds)
        t1 = cpu_ticks(tree(proc.pid))
        r = {"rps": w["requests"] / w["seconds"], "p50_ms": w["p50"] / 1000, "p99_ms": w["p99"] / 1000,
             "p999_ms": w["p999"] / 1000, "errors": w["errors"] + w["non2xx"],
             "cpu_us": (t1 - t0) / HZ * 1e6 / max(1, w["requests"]),
             "peak_rss_mib": sum(peak_rss(p) for p in tree(proc.pid))}
        if idle:
            r["rss_with_idle_mib"] = sum(rss(p) for p in tree(proc.pid))
            r["idle_open"] = idle.still_open()
            r["idle_opened"] = idle.opened
            idle.close()
        return r

    def turn(self, rnd, name):
        proc, start_ms = self.start(name)
        try:
            time.sleep(0.3)
            self.starts.append({"round": rnd, "contender": name, "start_ms": start_ms,
                                "rss_idle_mib": sum(rss(p) for p in tree(proc.pid))})
            # Warm-up: JIT for Bulwark, caches and connections for all.
            # Warm-up: every scenario's code paths, so the JIT has compiled them before they are measured
            # (Bulwark needs longer than the peers' caches and connection pools to reach its steady state).
            jit = 2 if name.startswith("bulwark") else 1
            scenarios = ["get"] if name == "bulwark-log" else self.a.scenarios
            self.wrk("get", self.a.warmup * jit)
            for s in scenarios:
                if s not in ("get", "idle10k"):
                    self.wrk(s, max(2, self.a.warmup // 2) * jit)
            if name.startswith("bulwark"):
                self.until_jit_quiet(proc, scenarios)
            for s in scenarios:
                r = self.run_scenario(name, proc, s)
                if name.startswith("bulwark"):
                    r["log_dropped"] = dropped(self.admin_port)
                r.update(round=rnd, contender=name, scenario=s)
                self.results.append(r)
                print(f"  round {rnd} {name:12s} {s:8s} {r['rps']:9.0f} req/s  {r['cpu_us']:6.1f} us/req  "
                      f"p99 {r['p99_ms']:6.2f} ms  errors {r['errors']}  peak {r['peak_rss_mib']:.0f} MiB"
                      + (f"  idle RSS {r['rss_with_idle_mib']:.0f} MiB, {r['idle_open']}/{self.a.idle} open"
                         if "idle_open" in r else ""), flush=True)
        finally:
            self.stop(proc)
        if name == "bulwark-log":
            out = os.path.join(self.work, f"{name}.out")
            print(f"  access log: {os.path.getsize(out) / 1e6:.0f} MB written", flush=True)

    def until_jit_quiet(self, proc, scenarios):
        """More rounds of every scenario until the JIT compilers used < 2% of the time of a round.

        The compiler threads share the proxy's core: while C2 is still compiling (3,000+ methods
        here), the requests pay for it, and the figures say more about start-up than steady state.
        """
        for _ in range(12):
            t0, c0 = time.monotonic(), jit_ticks(proc.pid)
            self.wrk("get", 3)
            for s in scenarios:
                if s not in ("get", "idle10k"):
                    self.wrk(s, 2)
            share = (jit_ticks(proc.pid) - c0) / HZ / (time.monotonic() - t0)
            if share < 0.02:
                break
        self.jit_share.append(share)

    def run(self):
        self.write_upstreams()
        order = [c for c in CONTENDERS if c in self.a.contenders]
        load_before = os.getloadavg()
        for rnd in range(1, self.a.rounds + 1):
            k = (rnd - 1) % len(order)
            for name in order[k:] + order[:k]:
                self.turn(rnd, name)
        self.load = (load_before, os.getloadavg())

    def close(self):
        for u in self.upstreams:
            u.terminate()
        for u in self.upstreams:
            u.wait()


# -------------------------------------------------------------------- wrk scripts
def wrk_script(scenario):
    head = ""
    if scenario == "post16k":
        head = ('wrk.method = "POST"\nwrk.body = string.rep("x", 16384)\n'
                'wrk.headers["Content-Type"] = "application/octet-stream"\n')
    elif scenario == "newconn":
        head = 'wrk.headers["Connection"] = "close"\n'
    return head + """
local non2xx = 0
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('JSON {"requests": %d, "seconds": %f, "errors": %d, "non2xx": %d, "p50": %d, "p99": %d, "p999": %d}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
"""


# -------------------------------------------------------------------- idle connections
class IdleConnections:
    """N keep-alive connections, each having made one request, then held open doing nothing."""

    def __init__(self, port, n):
        self.port, self.n, self.opened = port, n, 0
        self.loop = asyncio.new_event_loop()
        self.writers = []

    async def _one(self, sem):
        async with sem:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                self.writers.append((reader, writer))
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                pass

    def open(self):
        async def all_of_them():
            sem = asyncio.Semaphore(256)
            await asyncio.gather(*(self._one(sem) for _ in range(self.n)))
        self.loop.run_until_complete(all_of_them())
        self.opened = len(self.writers)

    def still_open(self):
        async def probe():
            await asyncio.sleep(0)
            return sum(1 for r, w in self.writers if not r.at_eof() and not w.is_closing())
        # Let the loop notice any connection the proxy closed meanwhile.
        self.loop.run_until_complete(asyncio.sleep(0.2))
        return self.loop.run_until_complete(probe())

    def close(self):
        for _, w in self.writers:
            w.close()
        self.loop.run_until_complete(asyncio.sleep(0.2))
        self.loop.close()


# -------------------------------------------------------------------- /proc helpers
def tree(pid):
    """The pid and its descendants (nginx master and worker, or the JVM)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    # taskset execs in place, so pid is the proxy itself.
    return out


def jit_ticks(pid):
    """CPU ticks of the JVM's compiler threads (C1, C2)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if not f.read().startswith(("C1 Compiler", "C2 Compiler")):
                    continue
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total


def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss(pid):
    return status_kib(pid, "VmRSS") / 1024


def peak_rss(pid):
    return status_kib(pid, "VmHWM") / 1024


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def wait_http(port, path, seconds, proc=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
                if s.recv(16).startswith(b"HTTP/1.1 200"):
                    return True
        except OSError:
            pass
        time.sleep(0.01)
    return False


def wait_port_free(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            time.sleep(0.05)
        except OSError:
            return


def dropped(admin_port):
    try:
        with socket.create_connection(("127.0.0.1", admin_port), timeout=2) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        for line in data.decode(errors="replace").splitlines():
            if line.startswith("bulwark_access_log_dropped_total"):
                return float(line.split()[-1])
    except OSError:
        pass
    return None


# -------------------------------------------------------------------- report
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def report(b, path_md, path_png):
    a = b.a
    rows = b.results
    contenders = [c for c in CONTENDERS if c in a.contenders]
    lines = []
    w = lines.append
    w(f"# Bulwark vs NGINX and HAProxy — {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC\n")
    w("Made by `loadtests/bench/bench.sh` " + " ".join(sys.argv[1:]) + ". A benchmark, not a test: read the ratios, "
      "taken between contenders measured in the same round.\n")
    cpu = sh("awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo").strip()
    w(f"- Machine: {os.cpu_count()} cores ({cpu}), {platform.platform()}; load average "
      f"{b.load[0][0]:.1f} before, {b.load[1][0]:.1f} after.")
    w(f"- Proxy alone on core {a.proxy_cpu} (`taskset`); wrk (1 thread) and three nginx upstreams (1 worker "
      f"each, round robin) on core {a.load_cpu}.")
    w(f"- {sh('nginx -v 2>&1')}; {sh('haproxy -v | head -1')}; Bulwark `{os.path.relpath(a.jar, ROOT)}` on "
      f"{sh('java -version 2>&1 | head -1')} with `{' '.join(JVM_FLAGS)} -Dbulwark.workers=1`, MALLOC_ARENA_MAX=2; "
      "outlier detection, circuit breaker and retries on, access log off ('bulwark-log': on, stdout to a file).")
    if getattr(a, "idle_wanted", None):
        w(f"- The descriptor limit here ({b.fd_limit:,}, hard) lets HAProxy hold {a.idle:,} idle connections "
          f"(two descriptors each): the idle scenario uses {a.idle:,}, not {a.idle_wanted:,}, for every contender.")
    jit_shares = ", ".join(f"{100 * x:.1f}%" for x in b.jit_share)
    w(f"- {a.rounds} rounds, contenders in rotated order; each run {a.seconds} s after a warm-up of every scenario ({a.warmup} s of small GETs and {max(2, a.warmup // 2)} s of each other scenario; for Bulwark twice that, then more rounds until its JIT compilers use < 2% of a round, at most 12: the JIT's share in the last warm-up round was {jit_shares}); "
      f"figures are medians over the rounds.\n")
    names = {"get": "small GET, keep-alive, 64 connections", "post16k": "16 KiB POST, keep-alive, 64 connections",
             "get1m": "1 MiB responses, keep-alive, 16 connections",
             "newconn": "a new connection per request, 64 connections",
             "idle10k": f"{a.idle:,} idle keep-alive connections open, small GETs over 64 more"}
    for s in a.scenarios:
        w(f"## {s}: {names[s]}\n")
        extra = s == "idle10k"
        w("| contender | req/s | CPU µs/req | p50 ms | p99 ms | p99.9 ms | errors | peak RSS MiB |"
          + (" RSS with idle MiB | idle still open |" if extra else ""))
        w("|---|---|---|---|---|---|---|---|" + ("---|---|" if extra else ""))
        for c in contenders:
            rs = [r for r in rows if r["contender"] == c and r["scenario"] == s]
            if not rs:
                continue
            m = lambda k: med([r.get(k) for r in rs])
            line = (f"| {c} | {m('rps'):,.0f} | {m('cpu_us'):.1f} | {m('p50_ms'):.2f} | {m('p99_ms'):.2f} | "
                    f"{m('p999_ms'):.2f} | {sum(r['errors'] for r in rs)} | {m('peak_rss_mib'):.0f} |")
            if extra:
                line += f" {m('rss_with_idle_mib'):.0f} | {min(r['idle_open'] for r in rs):,} |"
            w(line)
        w("")
        for me in [c for c in contenders if c.startswith("bulwark")]:
            for peer in PEERS:
                ratios = []
                for rnd in range(1, a.rounds + 1):
                    x = [r for r in rows if r["contender"] == me and r["scenario"] == s and r["round"] == rnd]
                    y = [r for r in rows if r["contender"] == peer and r["scenario"] == s and r["round"] == rnd]
                    if x and y:
                        ratios.append((x[0]["rps"] / y[0]["rps"], x[0]["cpu_us"] / y[0]["cpu_us"],
                                       x[0]["p99_ms"] / max(1e-9, y[0]["p99_ms"])))
                if ratios:
                    per = ", ".join(f"{r[0]:.2f}" for r in ratios)
                    w(f"- {me} / {peer}: req/s {med([r[0] for r in ratios]):.2f}× (per round {per}); "
                      f"CPU per request {med([r[1] for r in ratios]):.2f}×; p99 {med([r[2] for r in ratios]):.2f}×")
        w("")
    logged = [r for r in rows if r["contender"] == "bulwark-log"]
    if logged:
        off = med([r["cpu_us"] for r in rows if r["contender"] == "bulwark" and r["scenario"] == "get"])
        on = med([r["cpu_us"] for r in logged])
        w(f"## The access log\n\nCPU per request with the JSON access log on: {on:.1f} µs, off: {off:.1f} µs "
          f"({on - off:+.1f} µs); `bulwark_access_log_dropped_total` at the end of each logged run: "
          f"{', '.join(str(r.get('log_dropped')) for r in logged)}.\n")
    w("## Start to ready (exec to the first proxied 200) and RSS idle\n")
    w("| contender | start ms (median) | per round | RSS idle MiB |")
    w("|---|---|---|---|")
    for c in contenders:
        ss = [x for x in b.starts if x["contender"] == c]
        if ss:
            per = ", ".join(f"{x['start_ms']:.0f}" for x in ss)
            w(f"| {c} | {med([x['start_ms'] for x in ss]):.0f} | {per} | "
              f"{med([x['rss_idle_mib'] for x in ss]):.0f} |")
    w(f"\n![req/s and CPU per request]({os.path.basename(path_png)})\n")
    with open(path_md, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(path_md.replace(".md", ".json"), "w") as f:
        json.dump({"results": rows, "starts": b.starts}, f, indent=1)
    chart(b, path_png)


def chart(b, path_png):
    if not shutil.which("gnuplot"):
        print("gnuplot missing: no chart", file=sys.stderr)
        return
    contenders = [c for c in CONTENDERS if c in b.a.contenders]
    data = os.path.join(b.work, "chart.dat")
    with open(data, "w") as f:
        f.write("# scenario " + " ".join(f"{c}_rps {c}_cpu" for c in contenders) + "\n")
        for s in b.a.scenarios:
            vals = []
            for c in contenders:
                rs = [r for r in b.results if r["contender"] == c and r["scenario"] == s]
                vals += [f"{med([r['rps'] for r in rs]):.1f}", f"{med([r['cpu_us'] for r in rs]):.2f}"] if rs \
                    else ["NaN", "NaN"]
            f.write(s + " " + " ".join(vals) + "\n")
    n = len(contenders)
    plot_rps = ", ".join(f"'{data}' using {2 + 2 * i}:xtic(1) title '{c}'" for i, c in enumerate(contenders))
    plot_cpu = ", ".join(f"'{data}' using {3 + 2 * i}:xtic(1) title '{c}'" for i, c in enumerate(contenders))
    script = f"""set terminal pngcairo size 1100,800 font 'sans,10'
set output '{path_png}'
set multiplot layout 2,1
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key top right
set grid ytics
set yrange [0:*]
set title 'Requests per second (median over rounds; higher is better)'
set logscale y
set yrange [100:*]
plot {plot_rps}
unset logscale y
set yrange [0:*]
set title 'Proxy CPU time per request, microseconds (lower is better)'
set logscale y
set yrange [1:*]
plot {plot_cpu}
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=False)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jar", default=os.path.join(ROOT, "proxy/target/bulwark.jar"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=int, default=8)
    p.add_argument("--warmup", type=int, default=6)
    p.add_argument("--idle", type=int, default=10000)
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--contenders", default=",".join(CONTENDERS))
    p.add_argument("--proxy-cpu", type=int, default=1)
    p.add_argument("--load-cpu", type=int, default=0)
    p.add_argument("--port-base", type=int, default=18800)
    p.add_argument("--out", default=os.path.join(ROOT, "loadtests/results"))
    a = p.parse_args()
    a.scenarios = [s for s in a.scenarios.split(",") if s]
    a.contenders = [c for c in a.contenders.split(",") if c]
    for s in a.scenarios:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s}; one of {', '.join(SCENARIOS)}")
    for c in a.contenders:
        if c not in CONTENDERS:
            p.error(f"unknown contender {c}; one of {', '.join(CONTENDERS)}")
    a.jar = os.path.abspath(a.jar)
    if not os.path.exists(a.jar):
        p.error(f"no jar at {a.jar}: build it first (mvn -q -DskipTests package)")
    # Every contender inherits this process's descriptor limit: raise the soft one to the hard one.
    # HAProxy needs two per connection, so the idle scenario is cut to fit when the hard limit is low.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    fit = ((hard - 100) // 2 - 400) // 100 * 100
    if a.idle > fit and "haproxy" in a.contenders:
        print(f"the descriptor limit ({hard}) lets HAProxy hold {fit:,} idle connections, not {a.idle:,}: "
              f"idle10k uses {fit:,} for every contender (raise `ulimit -Hn` for more)", file=sys.stderr)
        a.idle_wanted, a.idle = a.idle, fit
    b = Bench(a)
    try:
        b.run()
        stamp = datetime.datetime.utcnow().strftime("%Y-%m-%d-%H%M")
        os.makedirs(a.out, exist_ok=True)
        md = os.path.join(a.out, f"bench-{stamp}.md")
        report(b, md, md.replace(".md", ".png"))
        print(open(md).read())
        print(f"report: {md}")
    finally:
        b.close()
        shutil.rmtree(b.work, ignore_errors=True)


if __name__ == "__main__":
    main()
