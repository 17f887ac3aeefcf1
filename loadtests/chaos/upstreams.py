#!/usr/bin/env python3
"""Three faultable HTTP/1.1 upstreams in one asyncio process (standard library only).

    upstreams.py ARRIVALS_FILE CONTROL_PORT PORT1 PORT2 PORT3

Upstream i answers every request with 200, header `x-upstream: up<i>` and body `up<i>`, /health
included, with keep-alive. Every request that arrives is logged to ARRIVALS_FILE as
`epoch_seconds<TAB>up<i><TAB>x-chaos<TAB>x-bulwark-attempt` (health checks carry no x-chaos, so
they log as `-`), which is how the report sees real traffic reaching a faulted host whatever the
proxy does. A line `up<i> <mode>` sent to 127.0.0.1:CONTROL_PORT switches one upstream:

  ok         normal answers
  blackhole  accepts and reads requests, never answers (connections stay open)
  503        answers 503 to everything, /health too
  reset      reads the request, then closes with RST (SO_LINGER 0)
  refused    closes its listening socket and RSTs its open connections: connects are refused
  slow       answers after 2 s
`flush` flushes the arrivals file; the control connection answers `ok`.
"""
import asyncio
import socket
import struct
import sys
import time

MODES = {"ok", "blackhole", "503", "reset", "refused", "slow"}


class Upstream:
    def __init__(self, name, port, log):
        self.name, self.port, self.log = name, port, log
        self.mode = "ok"
        self.server = None
        self.writers = set()
        body = name.encode() + b"\n"
        self.ok = (b"HTTP/1.1 200 OK\r\nx-upstream: " + name.encode() +
                   b"\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
        body503 = name.encode() + b" unavailable\n"
        self.unavail = (b"HTTP/1.1 503 Service Unavailable\r\nx-upstream: " + name.encode() +
                        b"\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n" % len(body503) + body503)

    async def start(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", self.port,
                                                 reuse_address=True, backlog=1024)

    async def set_mode(self, mode):
        old, self.mode = self.mode, mode
        if mode == "refused" and self.server is not None:
            self.server.close()
            self.server = None
            for w in list(self.writers):
                rst(w)
        elif mode != "refused" and self.server is None:
            await self.start()
        return old

    async def handle(self, reader, writer):
        self.writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                chaos, attempt = "-", "-"
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    k = k.strip().lower()
                    if k == b"x-chaos":
                        chaos = v.strip().decode("latin-1")
                    elif k == b"x-bulwark-attempt":
                        attempt = v.strip().decode("latin-1")
                    elif k == b"content-length":
                        length = int(v.strip() or 0)
                if length:
                    await reader.readexactly(length)
                self.log.write(f"{time.time():.6f}\t{self.name}\t{chaos}\t{attempt}\n")
                mode = self.mode
                if mode == "blackhole" or mode == "refused":
                    if mode == "refused":
                        rst(writer)
                        return
                    await reader.read()  # until the peer gives up
                    return
                if mode == "reset":
                    rst(writer)
                    return
                if mode == "slow":
                    await asyncio.sleep(2.0)
                writer.write(self.unavail if mode == "503" else self.ok)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.writers.discard(writer)
            if not writer.is_closing():
                writer.close()


def rst(writer):
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


async def main():
    arrivals, control_port, ports = sys.argv[1], int(sys.argv[2]), [int(p) for p in sys.argv[3:]]
    log = open(arrivals, "a", buffering=1 << 16)
    ups = {f"up{i + 1}": Upstream(f"up{i + 1}", p, log) for i, p in enumerate(ports)}
    for u in ups.values():
        await u.start()

    async def control(reader, writer):
        while line := await reader.readline():
            parts = line.decode().split()
            if parts == ["flush"]:
                log.flush()
                writer.write(b"ok\n")
            elif len(parts) == 2 and parts[0] in ups and parts[1] in MODES:
                await ups[parts[0]].set_mode(parts[1])
                log.flush()
                writer.write(b"ok\n")
            else:
                writer.write(b"error\n")
            await writer.drain()
        writer.close()

    await asyncio.start_server(control, "127.0.0.1", control_port, reuse_address=True)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
