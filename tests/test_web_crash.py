"""A server killed mid-save (kill -9) leaves every annotation whole: the old label or the new, never half,
and every save it acknowledged is on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from numberplate.data.nomeroff import iter_records  # noqa: E402
from numberplate.web.demo import make_demo_ocr  # noqa: E402


class ServerProcess:
    """``numberplate annotate`` in a child process on a free port."""

    def __init__(self, root: Path, *options: str):
        command = [sys.executable, "-m", "numberplate.cli.main", "annotate", str(root), "--port", "0",
                   "--user", "crash-test", *options]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self._first_line(timeout=60)
        if not line.startswith("http://"):
            self.kill()
            raise RuntimeError(f"server did not start: {line!r} {self.process.stderr.read()}")
        self.url = line.strip().rstrip("/")

    def _first_line(self, timeout: float) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return result[0] if result else ""

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def request(self, method: str, path: str, body=None, timeout: float = 10) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


def annotations(root: Path) -> dict[str, dict]:
    """Every annotation parsed (by json and by the dataset reader): a torn file fails here."""
    out = {}
    for path in sorted((root / "train" / "ann").glob("*.json")):
        out[path.stem] = json.loads(path.read_text())
    assert len(list(iter_records(root / "train"))) == len(out)
    return out


def label(name: str, attempt: int) -> str:
    return f"{name[-4:].replace('_', '')}X{attempt}".upper()


def test_kill_during_a_slow_save_keeps_the_old_file(tmp_path):
    root = tmp_path / "crops"
    items = make_demo_ocr(root, count=3)
    before = annotations(root)
    server = ServerProcess(root, "--write-delay", "5", "--engine", "none")
    try:
        status, item = server.request("GET", f"/api/ocr/items/{items[0].id}")
        assert status == 200
        outcome: list = []

        def save():
            try:
                outcome.append(server.request("PUT", f"/api/ocr/items/{items[0].id}",
                                              {"revision": item["revision"], "text": "NEW123", "lines": 1,
                                               "state": "readable"}, timeout=30))
            except Exception as exc:  # noqa: BLE001  (the connection dies with the server)
                outcome.append(exc)

        thread = threading.Thread(target=save)
        thread.start()
        temp_files: list[Path] = []
        deadline = time.monotonic() + 20
        while not temp_files and time.monotonic() < deadline:  # the new file is written, not yet renamed
            temp_files = list((root / "train" / "ann").glob(".*.tmp"))
            time.sleep(0.02)
        assert temp_files, "the save never reached its write"
        server.kill()
        thread.join(30)
    finally:
        server.kill()
    assert not isinstance(outcome[0], tuple), "the save cannot have been acknowledged"
    assert annotations(root) == before  # the old label, whole


def test_kill_during_a_burst_of_saves_loses_no_acknowledged_label(tmp_path):
    root = tmp_path / "crops"
    items = make_demo_ocr(root, count=8)
    before = annotations(root)
    server = ServerProcess(root, "--write-delay", "0.01", "--engine", "none")
    acknowledged: dict[str, str] = {}
    attempted: dict[str, list[str]] = {i.name: [] for i in items}
    stop = threading.Event()

    def writer(item) -> None:
        try:
            status, current = server.request("GET", f"/api/ocr/items/{item.id}")
            for attempt in range(1000):
                if stop.is_set():
                    return
                text = label(item.name, attempt)
                attempted[item.name].append(text)
                status, current = server.request("PUT", f"/api/ocr/items/{item.id}",
                                                 {"revision": current["revision"], "text": text, "lines": 1,
                                                  "state": "readable"})
                assert status == 200
                acknowledged[item.name] = text
        except (OSError, urllib.error.URLError, json.JSONDecodeError):
            return  # the server is gone

    threads = [threading.Thread(target=writer, args=(item,)) for item in items]
    try:
        for t in threads:
            t.start()
        time.sleep(1.0)
        server.kill()
        stop.set()
        for t in threads:
            t.join(30)
    finally:
        server.kill()
    after = annotations(root)
    assert sum(len(a) for a in attempted.values()) >= 16, "the burst was too short to mean anything"
    for item in items:
        ann = after[item.name]
        tried = attempted[item.name]
        if ann == before[item.name]:
            assert item.name not in acknowledged  # unchanged only if no save of it was acknowledged
            continue
        assert ann["description"] in tried and ann["moderation"]["isModerated"] == 1
        assert ann["predicted"] == before[item.name]["predicted"]
        if item.name in acknowledged:  # the acknowledged save or a later attempt, never an older one
            assert tried.index(ann["description"]) >= tried.index(acknowledged[item.name])
