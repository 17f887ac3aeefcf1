#!/usr/bin/env python3
"""Report of one soak-cascade.sh run, from the files it leaves in its work dir.

    python3 loadtests/chaos/soak-report.py WORK_DIR

Times are seconds since the load started (negative: before it). Reads meta.json, wrk.out (the
SOAK lines of soak-counts.lua and wrk's own summary), events-*.json (the event log polled every
5 s and at the end, merged, so the 1000-event ring cannot lose the early part of the run),
actions.log, rss.tsv, bulwark-at-end.log and cluster-final.json.
"""
import collections
import datetime
import glob
import json
import os
import re
import sys

work = sys.argv[1]
meta = json.load(open(os.path.join(work, "meta.json")))
start_ms = meta["start_us"] / 1000.0
start_s = int(meta["start_us"] // 1_000_000)
duration = meta["duration"]
out = []


def p(line=""):
    out.append(line)


def pct(a, b):
    return 100.0 * a / b if b else 0.0


# ---------------------------------------------------------------- client side (wrk)
summary, latency, others = {}, {}, []
statuses, errors = collections.Counter(), collections.Counter()
seconds = {}  # relative second -> (total, bad, Counter(codes))
wrk_text = open(os.path.join(work, "wrk.out")).read()
for line in wrk_text.splitlines():
    f = line.split()
    if not f or f[0] != "SOAK":
        continue
    if f[1] == "summary":
        summary = {k: int(v) for k, v in (x.split("=") for x in f[2:])}
    elif f[1] == "latency_us":
        latency = {k: int(v) for k, v in (x.split("=") for x in f[2:])}
    elif f[1] == "status":
        statuses[int(f[2])] += int(f[3])
    elif f[1] == "error":
        errors[f[2]] += int(f[3])
    elif f[1] == "other":
        others.append(" ".join(f[2:]))
    elif f[1] == "sec":
        t = int(f[2]) - start_s
        seconds[t] = (int(f[3]), int(f[4]), seconds.get(t, (0, 0, collections.Counter()))[2])
    elif f[1] == "seccode":
        t = int(f[2]) - start_s
        seconds.setdefault(t, (0, 0, collections.Counter()))[2][f[3]] += int(f[4])

total = sum(statuses.values())
bad = sum(n for s, n in statuses.items() if not 200 <= s <= 299)
p(f"Bulwark soak/chaos cascade: {duration} s, wrk {meta['wrk']}, revision {meta['revision']}")
p(f"  upstreams 127.0.0.1:{meta['ports']['up1']}/{meta['ports']['up2']}/{meta['ports']['up3']}; "
  f"up2 frozen {meta['freeze'][0]}-{meta['freeze'][1]} s, up3 killed {meta['kill'][0]} s, restarted {meta['kill'][1]} s; "
  f"reload every {meta['reload_every']} s, drain up1 ttl={meta['drain_ttl']} every {meta['drain_every']} s")
p()
if not summary:
    p("wrk printed no SOAK summary; raw output:")
    p(wrk_text)
else:
    dur_s = summary["duration_us"] / 1e6
    p("== Client (wrk)")
    p(f"requests: {summary['requests']} in {dur_s:.1f} s ({summary['requests'] / dur_s:.0f}/s); responses counted: {total}"
      + ("" if total == summary["requests"] else "  (MISMATCH: the Lua counts are off)"))
    p(f"error share (non-2xx / responses): {pct(bad, total):.2f} % ({bad})")
    p("by status: " + ", ".join(f"{s}={n} ({pct(n, total):.2f} %)" for s, n in sorted(statuses.items())))
    p("by x-bulwark-error: " + (", ".join(f"{c}={n} ({pct(n, total):.2f} %)" for c, n in errors.most_common()) or "none"))
    if others:
        p("  codes not in soak-counts.lua's list: " + "; ".join(others))
    sec_total = sum(v[0] for v in seconds.values())
    sec_codes = sum(sum(v[2].values()) for v in seconds.values())
    if sec_total != total or sec_codes != sum(errors.values()):
        p(f"  (per-second counts disagree with the totals: {sec_total} responses, {sec_codes} codes)")
    p(f"wrk: non-2xx/3xx {summary['status']}, socket errors connect {summary['connect']} read {summary['read']} "
      f"write {summary['write']} timeout {summary['timeout']}")
    if latency:
        p(f"latency: p50 {latency['p50'] / 1000:.1f} ms, p90 {latency['p90'] / 1000:.1f} ms, "
          f"p99 {latency['p99'] / 1000:.1f} ms, max {latency['max'] / 1000:.1f} ms")

    # Windows with client-visible errors: seconds with any non-2xx, merged across gaps <= 2 s.
    p()
    p("== Client-visible error windows (seconds with non-2xx, gaps <= 2 s merged)")
    windows, cur = [], None
    for t in sorted(seconds):
        if seconds[t][1] == 0:
            continue
        if cur and t - cur[1] <= 3:
            cur[1] = t
        else:
            cur = [t, t]
            windows.append(cur)
    if not windows:
        p("none")
    for a, b in windows:
        n = sum(seconds.get(t, (0, 0, None))[0] for t in range(a, b + 1))
        k = sum(seconds.get(t, (0, 0, None))[1] for t in range(a, b + 1))
        codes = collections.Counter()
        for t in range(a, b + 1):
            if t in seconds:
                codes.update(seconds[t][2])
        p(f"{a:4d}-{b + 1:<4d} s ({b + 1 - a:3d} s): {k}/{n} non-2xx ({pct(k, n):.1f} %): "
          + ", ".join(f"{c}={v}" for c, v in codes.most_common()))

    # Coarse time series: 20 buckets.
    step = max(1, duration // 20)
    p()
    p(f"== Per {step} s: responses/s, non-2xx %, error codes")
    marks = {meta["freeze"][0]: "up2 frozen", meta["freeze"][1]: "up2 thawed",
             meta["kill"][0]: "up3 killed", meta["kill"][1]: "up3 restarted"}
    for a in range(0, duration, step):
        n = sum(seconds.get(t, (0, 0, None))[0] for t in range(a, a + step))
        k = sum(seconds.get(t, (0, 0, None))[1] for t in range(a, a + step))
        codes = collections.Counter()
        for t in range(a, a + step):
            if t in seconds:
                codes.update(seconds[t][2])
        mark = "; ".join(v for t, v in sorted(marks.items()) if a <= t < a + step)
        p(f"{a:4d}-{a + step:<4d} {n / step:7.0f}/s {pct(k, n):6.1f} %  "
          + (", ".join(f"{c}={v}" for c, v in codes.most_common()) or "-") + (f"   <- {mark}" if mark else ""))

# ---------------------------------------------------------------- operator actions
p()
p("== Operator actions and chaos (actions.log)")
acts = collections.defaultdict(collections.Counter)
conflicts = []
for line in open(os.path.join(work, "actions.log")):
    f = line.split(" ", 3)
    if len(f) < 3:
        continue
    t, kind, code = int(f[0]) / 1000.0, f[1], f[2]
    if kind in ("reload", "drain"):
        acts[kind][code] += 1
        if kind == "drain" and not code.startswith("2"):
            conflicts.append(f"{t:.1f} s {code}: {f[3].strip() if len(f) > 3 else ''}"[:160])
    else:
        p(f"{t:6.1f} s {kind} {' '.join(f[2:]).strip()}")
for kind in ("reload", "drain"):
    p(f"{kind}: " + (", ".join(f"HTTP {c} x{n}" for c, n in sorted(acts[kind].items())) or "none"))
for c in conflicts:
    p(f"  drain refused at {c}")

# ---------------------------------------------------------------- event log
p()
p("== Event log (GET /api/v1/events, polled and merged)")
seen, events, truncated = set(), [], False
for path in sorted(glob.glob(os.path.join(work, "events-*.json"))):
    try:
        evs = json.load(open(path)).get("events", [])
    except (ValueError, OSError):
        continue
    truncated |= len(evs) >= 1000
    for e in evs:
        key = json.dumps(e, sort_keys=True)
        if key not in seen:
            seen.add(key)
            events.append(e)


def rel(e):
    ts = datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
    return ts.timestamp() - start_ms / 1000.0


events.sort(key=rel)
if truncated:
    p("(a poll returned a full 1000-event log: events between polls may be missing)")
by_type = collections.Counter(e["type"] for e in events)
p(f"{len(events)} events: " + ", ".join(f"{k}={v}" for k, v in sorted(by_type.items())))
by_up = collections.Counter((e["type"], e.get("upstream")) for e in events if e.get("upstream"))
if by_up:
    p("per upstream: " + ", ".join(f"{t}[{u}]={n}" for (t, u), n in sorted(by_up.items())))

p()
p("circuit breaker transitions:")
cb = [e for e in events if e["type"] == "circuit_breaker"]
if not cb:
    p("  none")
for e in cb:
    d = e.get("detail", {})
    p(f"  {rel(e):7.2f} s {e['from']} -> {e['to']} ({e['reason']}, failure_rate {d.get('failure_rate', 0):.1f} % "
      f"of threshold {d.get('failure_rate_threshold', 0):.0f} %)")
# Episodes: from leaving closed until back to closed.
episodes, began = [], None
for e in cb:
    if e["from"] == "closed" and began is None:
        began = rel(e)
    if e["to"] == "closed" and began is not None:
        episodes.append((began, rel(e)))
        began = None
if began is not None:
    episodes.append((began, None))
if episodes:
    p("breaker not closed: " + ", ".join(
        f"{a:.1f}-{b:.1f} s ({b - a:.1f} s)" if b is not None else f"{a:.1f} s-end" for a, b in episodes))

p()
p("panic episodes:")
pe = [e for e in events if e["type"] in ("panic_entered", "panic_left")]
if not pe:
    p("  none")
for e in pe:
    d = e.get("detail", {})
    p(f"  {rel(e):7.2f} s {e['type']} ({e['reason']}; eligible {d.get('eligible')}/{d.get('upstreams')}, "
      f"threshold {d.get('panic_threshold')})")

p()
p("upstream state changes (health_flip, ejected, unejected, recovered, drained...):")
for e in events:
    if e.get("upstream") and e["type"] != "circuit_breaker":
        p(f"  {rel(e):7.2f} s {e['type']:<14} {e['upstream']:<16} {e.get('from')} -> {e.get('to')} ({e.get('reason')})")

try:
    c = json.load(open(os.path.join(work, "cluster-final.json")))
    p()
    p(f"final cluster state: breaker {c.get('circuit_breaker', {}).get('state')}, panic {c.get('panic')}, "
      + ", ".join(f"{u['address']} eligible={u['eligible']} health={u['health']} admin={u['admin']}"
                  for u in c.get("upstreams", [])))
except (ValueError, OSError):
    pass

# ---------------------------------------------------------------- RSS and log
p()
p("== Bulwark RSS (VmRSS, sampled every second)")
rss = []
for line in open(os.path.join(work, "rss.tsv")):
    f = line.split()
    if len(f) == 2:
        rss.append((int(f[0]) / 1000.0, int(f[1]) / 1024.0))
if rss:
    vals = [r for _, r in rss]
    p(f"{len(rss)} samples: min {min(vals):.0f} MiB, max {max(vals):.0f} MiB, first {vals[0]:.0f} MiB, last {vals[-1]:.0f} MiB")
    picks = sorted({round(i * (len(rss) - 1) / 9) for i in range(10)})
    p("over time: " + ", ".join(f"{rss[i][0]:.0f}s={rss[i][1]:.0f}" for i in picks))

p()
p("== Bulwark log (stdout, WARN/ERROR lines)")
levels, msgs = collections.Counter(), collections.Counter()
line_re = re.compile(r"^\S+\s+(WARN|ERROR)\s+\[[^\]]*\]\s+(\S+)\s+-\s+(.*)$")
for line in open(os.path.join(work, "bulwark-at-end.log"), errors="replace"):
    m = line_re.match(line.rstrip("\n"))
    if m:
        levels[m.group(1)] += 1
        msgs[f"{m.group(1)} {m.group(2)} - " + re.sub(r"\d+", "N", m.group(3))[:110]] += 1
p(f"WARN {levels['WARN']}, ERROR {levels['ERROR']}")
for m, n in msgs.most_common(8):
    p(f"  {n:5d} x {m}")

print("\n".join(out))
