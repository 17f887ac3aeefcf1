#!/usr/bin/env python3
"""Capacity-limited HTTP/1.1 upstreams in one asyncio process (standard library only).

    capacity_upstreams.py CONTROL_PORT WORKERS WORK_MS PORT...

Each upstream is a service with WORKERS workers: a request takes a worker for WORK_MS (sleeping,
not burning CPU) and waits in an unbounded queue when all are busy, so past WORKERS / WORK_MS
requests a second its latency grows without bound, as a real service's does. `/health` answers at
once (a liveness endpoint served apart from the work). A line `PORT refused` or `PORT ok` sent to
127.0.0.1:CONTROL_PORT stops or restarts one upstream (stopped: connects are refused and open
connections are reset); the control connection answers `ok`.
"""
import asyncio
import socket
import struct
import sys


class Service:
    def __init__(self, port, workers, work_s):
        self.port, self.work_s = port, work_s
        self.workers = asyncio.Semaphore(workers)
        self.server = None
        self.writers = set()
        body = f"served by {port}\n".encode()
        self.ok = (b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n" % len(body) + body)

    async def start(self):
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", self.port, reuse_address=True,
                                                 backlog=4096)

    async def stop(self):
        if self.server is not None:
            self.server.close()
            self.server = None
        for w in list(self.writers):
            sock = w.get_extra_info("socket")
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            w.transport.abort()

    async def handle(self, reader, writer):
        self.writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip() or 0)
                if length:
                    await reader.readexactly(length)
                if not head.startswith(b"GET /health"):
                    async with self.workers:
                        await asyncio.sleep(self.work_s)
                writer.write(self.ok)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.writers.discard(writer)
            if not writer.is_closing():
                writer.close()


async def main():
    control_port, workers, work_ms = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    services = {int(p): Service(int(p), workers, work_ms / 1000) for p in sys.argv[4:]}
    for s in services.values():
        await s.start()

    async def control(reader, writer):
        while line := await reader.readline():
            parts = line.decode().split()
            if len(parts) == 2 and parts[0].isdigit() and int(parts[0]) in services and parts[1] in ("ok", "refused"):
                s = services[int(parts[0])]
                if parts[1] == "refused":
                    await s.stop()
                elif s.server is None:
                    await s.start()
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
