"""Throughput and latency of ``numberplate serve`` on loopback, with 1280x720 JPEG uploads.

Starts the service in a subprocess, sends the same photos from C concurrent keep-alive clients for a
bounded number of requests and time, and prints requests/s, p50/p95/p99 latency and errors by status.
The clients run on the same machine and take CPU from the service; the load average before and after
is printed because this machine is often shared:

    python benchmarks/bench_serve.py                              # 4 clients, 400 requests, 1 worker
    python benchmarks/bench_serve.py --clients 8 --workers 2 --requests 600
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _jpegs(count: int) -> list[bytes]:
    import cv2

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_read import photos

    return [cv2.imencode(".jpg", cv2.cvtColor(p, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
            for p in photos(count)]


def _wait_ready(port: int, process: subprocess.Popen, timeout: float = 90) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise SystemExit("the server exited during startup")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start in time")


def load(port: int, bodies: list[bytes], clients: int, requests: int, max_seconds: float) -> dict:
    """Send ``requests`` uploads from ``clients`` threads (stopping at ``max_seconds``); latency stats."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            started = time.perf_counter()
            try:
                conn.request("POST", "/v1/read?region=ua", body=bodies[index % len(bodies)],
                             headers={"content-type": "image/jpeg"})
                response = conn.getresponse()
                response.read()
                key = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                key = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                statuses[key] = statuses.get(key, 0) + 1
                if key == "200":
                    latencies.append(elapsed)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {"requests": sum(statuses.values()), "seconds": seconds, "req_per_s": sum(statuses.values()) / seconds,
            "p50_ms": 1000 * q[49], "p95_ms": 1000 * q[94], "p99_ms": 1000 * q[98],
            "max_ms": 1000 * max(latencies, default=float("nan")), "statuses": statuses,
            "5xx": sum(n for k, n in statuses.items() if k.startswith("5"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load test of numberplate serve on loopback.")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--inference-threads", type=int, default=2)
    parser.add_argument("--photos", type=int, default=20, help="distinct photos cycled through")
    args = parser.parse_args(argv)

    bodies = _jpegs(args.photos)
    port = _free_port()
    command = [sys.executable, "-m", "numberplate.cli.main", "serve", "--host", HOST, "--port", str(port),
               "--workers", str(args.workers), "--inference-threads", str(args.inference_threads),
               "--log-level", "warning"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port, server)
        load(port, bodies, args.clients, 4 * args.clients, 30)  # warm-up
        before = os.getloadavg()[0]
        stats = load(port, bodies, args.clients, args.requests, args.max_seconds)
        after = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(f"numberplate serve: {args.workers} worker(s) x {args.inference_threads} inference threads, "
          f"{args.clients} clients, {len(bodies[0]) // 1024} kB 1280x720 JPEGs, {os.cpu_count()} cores, "
          f"load average {before:.1f} -> {after:.1f}")
    print("| requests | req/s | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | 5xx | statuses |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {stats['requests']} | {stats['req_per_s']:.1f} | {stats['p50_ms']:.0f} | {stats['p95_ms']:.0f} | "
          f"{stats['p99_ms']:.0f} | {stats['max_ms']:.0f} | {stats['5xx']} | {json.dumps(stats['statuses'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
