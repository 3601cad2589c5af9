"""numberplate read --engine ray against a Ray head node that the test starts on loopback (as a
separate cluster, joined by --address like a remote one), compared with the local engine."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the Ray engine needs the [ray] extra (pip install 'numberplate[ray]')")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "car-ua.jpg"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A one-node Ray cluster with token authentication, as the README tells to run one."""
    ray_cli = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "RAY_USAGE_STATS_ENABLED": "0"}
    log = tmp_path_factory.mktemp("ray") / "head.log"
    with log.open("w") as sink:  # a file, not a pipe: nobody has to keep reading it
        head = subprocess.Popen([ray_cli, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                                 "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats",
                                 "--block"], env=env, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group: the teardown ends all of it
    try:
        started = time.monotonic()
        while "block forever" not in log.read_text():
            if head.poll() is not None or time.monotonic() - started > 90:
                pytest.fail("Ray head did not start: " + log.read_text()[-2000:])
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env
    finally:
        try:
            head.send_signal(signal.SIGINT)  # `ray start --block` stops its node processes on Ctrl-C
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


def _read(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "numberplate.cli.main", "read", *args, "--no-progress"], env=env,
                          capture_output=True, text=True, timeout=240)


def test_ray_engine_matches_local_and_resumes(cluster, tmp_path):
    address, env = cluster
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(6):
        shutil.copy(EXAMPLE, photos / f"car{index}.jpg")
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnope")
    local = _read([str(photos), "--out", str(tmp_path / "local.jsonl"), "--region", "ua"], env)
    assert local.returncode == 0, local.stderr
    # Start with two photos done, as if an earlier run had stopped.
    out = tmp_path / "ray.jsonl"
    out.write_text("".join(sorted((tmp_path / "local.jsonl").read_text().splitlines(keepends=True))[:2]))
    run = _read([str(photos), "--engine", "ray", "--address", address, "--jobs", "2", "--out", str(out),
                 "--resume", "--region", "ua"], env)
    assert run.returncode == 0, run.stderr
    assert "summary: 4 read, 1 failed, 2 skipped" in run.stderr
    assert "broken.png: image file is truncated" in run.stderr

    def records(path: Path) -> dict:
        return {r["image"]: r for r in map(json.loads, path.read_text().splitlines())}

    assert records(out) == records(tmp_path / "local.jsonl")
    assert len(out.read_text().splitlines()) == 6
