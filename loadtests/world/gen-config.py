#!/usr/bin/env python3
"""Writes the "size of the world" configs the world-*.sh scenarios run Bulwark with.

  gen-config.py routes N UPSTREAM_PORT LISTEN_PORT ADMIN_PORT > bulwark.conf
      N prefix routes /svc-0000/ .. /svc-NNNN/, all to one cluster.
  gen-config.py upstreams N FIRST_PORT LISTEN_PORT ADMIN_PORT [INTERVAL] > bulwark.conf
      one cluster of N upstreams 127.0.0.1:FIRST_PORT.., each health-checked every INTERVAL (1s).
  gen-config.py nginx-ports N FIRST_PORT PIDFILE LOG > nginx.conf
      one nginx, one worker, listening on N consecutive ports; /health lines go to LOG.
"""
import sys


def routes(n, up, port, admin):
    out = ["bulwark {", f'  listener {{ host = "127.0.0.1", port = {port} }}', f"  admin {{ port = {admin} }}",
           f'  clusters {{ app {{ endpoints = [ "127.0.0.1:{up}" ] }} }}', "  routes = ["]
    for i in range(n):
        out.append(f'    {{ name = r{i}, match {{ path-prefix = "/svc-{i:05d}/" }}, cluster = app }}')
    out += ["  ]", "}"]
    return "\n".join(out)


def upstreams(n, first, port, admin, interval="1s"):
    eps = ", ".join(f'"127.0.0.1:{first + i}"' for i in range(n))
    return "\n".join([
        "bulwark {", f'  listener {{ host = "127.0.0.1", port = {port} }}', f"  admin {{ port = {admin} }}",
        "  clusters { big {", f"    endpoints = [ {eps} ]",
        f'    health-check {{ path = "/health", interval = {interval}, timeout = 1s }}',
        "  } }", '  routes = [ { name = all, match { path-prefix = "/" }, cluster = big } ]', "}"])


def nginx_ports(n, first, pidfile, log):
    listens = "\n".join(f"    listen 127.0.0.1:{first + i} backlog=64;" for i in range(n))
    return f"""worker_processes 1; daemon off; pid {pidfile}; error_log /dev/null;
worker_rlimit_nofile 8192;
events {{ worker_connections 8192; }}
http {{ access_log off; keepalive_requests 1000000; keepalive_timeout 75s;
  log_format hc '$msec $server_port $connection';
  server {{
{listens}
    location = /health {{ access_log {log} hc; return 200 "ok\\n"; }}
    location / {{ return 200 "hello from nginx, a small body of about a hundred bytes for the benchmark\\n"; }}
  }}
}}"""


if __name__ == "__main__":
    kind, args = sys.argv[1], sys.argv[2:]
    if kind == "routes":
        print(routes(int(args[0]), int(args[1]), int(args[2]), int(args[3])))
    elif kind == "upstreams":
        print(upstreams(int(args[0]), int(args[1]), int(args[2]), int(args[3]), *(args[4:5])))
    elif kind == "nginx-ports":
        print(nginx_ports(int(args[0]), int(args[1]), args[2], args[3]))
    else:
        sys.exit("unknown kind " + kind)
