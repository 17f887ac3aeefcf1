#!/usr/bin/env python3
"""Open-loop HTTP/1.1 load at a fixed rate (standard library only).

    openloop.py NAME PORT RATE DURATION_S START_EPOCH OUT_TSV

Request i is due at START_EPOCH + i/RATE and is sent then whatever happened to earlier ones (a new
keep-alive connection is opened when none is idle), so a stalled proxy shows up as latency and
errors instead of as fewer requests (wrk's closed loop would wait, hiding exactly that). Latency is
measured from the *due* time, so a late send (client overloaded) is charged too. Each request
carries `x-chaos: NAME-i`, which the upstreams log on arrival. One line per request:
`i  due_s(from START)  latency_ms  status  x-bulwark-error  x-upstream  x-upstream-addr`
with status 0 = client timeout (5 s), -1 = connection error/closed without a response.
"""
import asyncio
import sys
import time

TIMEOUT = 5.0


class Pool:
    def __init__(self, port):
        self.port = port
        self.idle = []

    async def get(self):
        while self.idle:
            r, w = self.idle.pop()
            if not w.is_closing() and not r.at_eof():
                return r, w
        return await asyncio.open_connection("127.0.0.1", self.port)

    def put(self, conn):
        self.idle.append(conn)


async def one(pool, name, i, out, due, t0):
    status, err, ups, addr = -1, "-", "-", "-"
    conn = None
    try:
        async def go():
            nonlocal status, err, ups, addr, conn
            conn = await pool.get()
            r, w = conn
            w.write(f"GET /?i={i} HTTP/1.1\r\nhost: chaos\r\nx-chaos: {name}-{i}\r\n\r\n".encode())
            await w.drain()
            head = await r.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            st = int(lines[0].split()[1])
            length, chunked, close = 0, False, False
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                k, v = k.strip().lower(), v.strip()
                if k == b"content-length":
                    length = int(v)
                elif k == b"transfer-encoding" and b"chunked" in v.lower():
                    chunked = True
                elif k == b"connection" and v.lower() == b"close":
                    close = True
                elif k == b"x-bulwark-error":
                    err = v.decode()
                elif k == b"x-upstream":
                    ups = v.decode()
                elif k == b"x-upstream-addr":
                    addr = v.decode().replace(" ", "")
            if chunked:
                while True:
                    size = int((await r.readline()).split(b";")[0], 16)
                    await r.readexactly(size + 2)
                    if size == 0:
                        break
            elif length:
                await r.readexactly(length)
            status = st
            if close:
                w.close()
            else:
                pool.put(conn)
                conn = None
        await asyncio.wait_for(go(), TIMEOUT - max(0.0, time.time() - due))
    except asyncio.TimeoutError:
        status = 0
    except Exception:
        status = -1
    finally:
        if conn is not None and status <= 0:
            conn[1].close()
    done = time.time()
    out.append(f"{i}\t{due - t0:.4f}\t{(done - due) * 1000:.2f}\t{status}\t{err}\t{ups}\t{addr}\n")


async def main():
    name, port, rate, duration, t0, path = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
        float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    pool = Pool(port)
    out, tasks = [], set()
    n = int(rate * duration)
    for i in range(n):
        due = t0 + i / rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        t = asyncio.create_task(one(pool, name, i, out, due, t0))
        tasks.add(t)
        t.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks)
    with open(path, "w") as f:
        f.writelines(sorted(out, key=lambda s: int(s.split("\t", 1)[0])))


if __name__ == "__main__":
    asyncio.run(main())
