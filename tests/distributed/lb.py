"""A TCP load balancer on loopback: the ingress in front of the api-servers of the distributed test.

``python tests/distributed/lb.py --port 8080 --upstream 127.0.0.1:9001 --upstream 127.0.0.1:9002``

Each accepted connection goes to the next ready upstream in turn; an upstream that refuses or does not
accept within ``--connect-timeout`` is skipped for the next one, as nginx's ``proxy_next_upstream error
timeout`` does. A connection already handed to an upstream that dies is closed, as any ingress would close
it. An upstream is ready once ``GET --health-path`` answers 200 (a readiness probe, checked every second):
an api-server answers its first ``/execution`` request only after building its versioned routes, which
blocks its event loop for tens of seconds on a busy 2-core machine, so it gets traffic only after that.
When no upstream is ready, every one is tried. Binds 127.0.0.1 only. Prints one line per change of
readiness and per failover, and a count per upstream on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import sys
from collections import Counter

BUFFER = 64 * 1024


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(BUFFER):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()


class Balancer:
    def __init__(self, upstreams: list[tuple[str, int]], connect_timeout: float, health_path: str) -> None:
        self.upstreams = upstreams
        self.connect_timeout = connect_timeout
        self.health_path = health_path
        self.ready = [False] * len(upstreams)
        self.turn = itertools.cycle(range(len(upstreams)))
        self.served: Counter[str] = Counter()
        self.failovers = 0

    def set_ready(self, index: int, ready: bool, why: str) -> None:
        if self.ready[index] != ready:
            host, port = self.upstreams[index]
            print(f"lb: upstream {host}:{port} {'ready' if ready else 'not ready'} ({why})", flush=True)
        self.ready[index] = ready

    async def probe(self, index: int) -> None:
        host, port = self.upstreams[index]
        request = f"GET {self.health_path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode()
        while True:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), self.connect_timeout
                )
                try:
                    writer.write(request)
                    status = await asyncio.wait_for(reader.readline(), 10)
                finally:
                    writer.close()
                ok = status.split(b" ")[1:2] == [b"200"]
                self.set_ready(index, ok, status.decode(errors="replace").strip() or "no answer")
            except (OSError, asyncio.TimeoutError) as exc:
                self.set_ready(index, False, type(exc).__name__)
            await asyncio.sleep(1)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        first = next(self.turn)
        order = [(first + offset) % len(self.upstreams) for offset in range(len(self.upstreams))]
        ready = [i for i in order if self.ready[i]]
        for index in ready or order:
            host, port = self.upstreams[index]
            try:
                streams = await asyncio.wait_for(asyncio.open_connection(host, port), self.connect_timeout)
            except (OSError, asyncio.TimeoutError) as exc:
                self.failovers += 1
                self.set_ready(index, False, type(exc).__name__)
                print(f"lb: upstream {host}:{port} failed ({type(exc).__name__}), next", flush=True)
                continue
            self.served[f"{host}:{port}"] += 1
            return streams
        return None

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream = await self.connect()
        if upstream is None:
            client_writer.close()
            return
        up_reader, up_writer = upstream
        try:
            await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))
        except asyncio.CancelledError:  # shutting down
            pass
        finally:
            for writer in (up_writer, client_writer):
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True, help="host:port")
    parser.add_argument("--connect-timeout", type=float, default=1.0)
    parser.add_argument("--health-path", default="/execution/health")
    args = parser.parse_args(argv)
    upstreams = [(u.rsplit(":", 1)[0], int(u.rsplit(":", 1)[1])) for u in args.upstream]
    balancer = Balancer(upstreams, args.connect_timeout, args.health_path)
    probes = [asyncio.create_task(balancer.probe(i)) for i in range(len(upstreams))]
    server = await asyncio.start_server(balancer.handle, "127.0.0.1", args.port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"lb: listening on 127.0.0.1:{args.port} -> {args.upstream}", flush=True)
    async with server:
        await stop.wait()
    for probe in probes:
        probe.cancel()
    print(f"lb: served {dict(balancer.served)}, failovers {balancer.failovers}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
