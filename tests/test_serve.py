"""The REST service in-process: endpoints, limits, clear 4xx errors, and a fuzz of the upload path."""

from __future__ import annotations

import io
import json
import random
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the service needs the [web] extra (fastapi, uvicorn)")
pytest.importorskip("PIL", reason="the service needs the [web] extra (pillow)")
from fastapi.testclient import TestClient  # noqa: E402

from numberplate.batch import ReaderOptions  # noqa: E402
from numberplate.serve.app import ServeConfig, create_app  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "car-ua.jpg"
JPEG = EXAMPLE.read_bytes()
LIMIT = 1 << 20


@pytest.fixture(scope="module")
def client():
    config = ServeConfig(reader=ReaderOptions(threads=1), max_upload_bytes=LIMIT, max_pixels=4_000_000)
    with TestClient(create_app(config), raise_server_exceptions=False) as test_client:
        yield test_client


def _png(width: int, height: int, rows: bytes = b"") -> bytes:
    """A PNG whose header declares ``width`` x ``height`` with (almost) no pixel data behind it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _jpeg_claiming(width: int, height: int) -> bytes:
    """The example JPEG with its frame header (SOF0) rewritten to claim another size."""
    at = JPEG.index(b"\xff\xc0")
    return JPEG[:at + 5] + struct.pack(">HH", height, width) + JPEG[at + 9:]


def test_read_multipart_and_raw_match_the_cli_jsonl(client, capsys):
    from numberplate.cli.main import main

    response = client.post("/v1/read", files={"file": ("car-ua.jpg", JPEG, "image/jpeg")}, data={"region": "ua"})
    assert response.status_code == 200
    assert main(["read", str(EXAMPLE), "--format", "jsonl", "--region", "ua"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert response.json() == {**cli, "image": "car-ua.jpg"}
    raw = client.post("/v1/read?region=ua&name=x.jpg", content=JPEG, headers={"content-type": "image/jpeg"})
    assert raw.status_code == 200 and raw.json() == {**cli, "image": "x.jpg"}


def test_min_confidence_filters_plates(client):
    kept = client.post("/v1/read?min_confidence=0.5", content=JPEG).json()["plates"]
    assert [p["text"] for p in kept] == ["AA1234BC"]
    form = client.post("/v1/read", files={"file": ("a.jpg", JPEG)}, data={"min_confidence": "1"}).json()
    assert all(p["confidence"] >= 1 for p in form["plates"])


def test_health_models_metrics_and_docs(client):
    assert client.get("/healthz").json()["status"] == "ok"
    models = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    assert models["detector-plates"]["loaded"] and models["detector-plates"]["version"]
    assert "val" in models["detector-plates"]["metrics"] and "ocr-universal" in models
    client.post("/v1/read", content=b"not an image")
    text = client.get("/metrics").text
    assert '# TYPE numberplate_requests_total counter' in text
    assert 'numberplate_rejected_total{reason="not_an_image"' in text
    assert 'numberplate_request_seconds_bucket{route="/v1/read"' in text
    assert "/v1/read" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(("body", "headers", "status", "code"), [
    (b"", {}, 400, "empty"),
    (b"hello, not an image", {}, 415, "not_an_image"),
    (JPEG[: len(JPEG) // 2], {}, 400, "truncated"),
    (_png(60_000, 60_000), {}, 413, "too_many_pixels"),  # a decompression bomb: tiny file, 3.6 gigapixels
    (_jpeg_claiming(65_000, 65_000), {}, 413, "too_many_pixels"),
    (JPEG + bytes(LIMIT), {}, 413, "too_large"),
    (b"region=ua", {"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    (b"--x\r\nbroken\r\n\r\nabc\r\n--x--\r\n", {"content-type": "multipart/form-data; boundary=x"}, 400,
     "bad_multipart"),
    (b"abc", {"content-type": "multipart/form-data"}, 400, "bad_multipart"),
])
def test_bad_uploads_get_clear_4xx_json(client, body, headers, status, code):
    response = client.post("/v1/read", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code and response.json()["message"]


@pytest.mark.parametrize(("files", "data", "query", "code"), [
    ({"photo": ("a.jpg", JPEG)}, {}, "", "wrong_field"),
    ({"file": ("a.jpg", JPEG), "image": ("b.jpg", JPEG)}, {}, "", "wrong_field"),
    ({"file": (None, "not a file")}, {}, "", "wrong_field"),
    ({"file": ("a.jpg", JPEG)}, {"region": "atlantis"}, "", "bad_option"),
    ({"file": ("a.jpg", JPEG)}, {}, "?min_confidence=2", "bad_option"),
    ({"file": ("a.jpg", JPEG)}, {}, "?min_confidence=abc", "bad_option"),
])
def test_wrong_fields_and_options_are_422(client, files, data, query, code):
    response = client.post("/v1/read" + query, files=files or None, data=data or None)
    assert response.status_code == 422 and response.json()["error"] == code, response.text


def test_declared_length_over_the_limit_is_refused_before_reading(client):
    response = client.post("/v1/read", content=b"x" * 10, headers={"content-length": str(LIMIT + 1)})
    assert response.status_code == 413


def _hostile_uploads(rng: random.Random) -> list[bytes]:
    small = cv2.imencode(".png", np.full((40, 60, 3), 90, np.uint8))[1].tobytes()
    cases = [rng.randbytes(rng.randint(1, 4000)) for _ in range(12)]
    cases += [JPEG[:cut] for cut in (2, 3, 20, 600, len(JPEG) - 3)]
    for _ in range(25):  # bit flips and byte runs in a real JPEG and PNG
        data = bytearray(rng.choice((JPEG, small)))
        for _ in range(rng.randint(1, 12)):
            at = rng.randrange(len(data))
            data[at: at + rng.randint(1, 8)] = rng.randbytes(rng.randint(1, 8))
        cases.append(bytes(data))
    cases += [
        b"\xff\xd8\xff\xd9",  # a JPEG with no frame
        _png(0, 0), _png(1, 1, b"\x00\x00\x00\x00"), _png(2**31 - 1, 1), _png(30_000, 30_000, bytes(1000)),
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", b"BM" + bytes(60), b"II*\x00" + bytes(100), b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"<html><body>hi</body></html>", b"PK\x03\x04" + bytes(100), b"P6\n99999 99999\n255\n" + bytes(100),
        b"\x00" * 5000, "ünïcødé".encode() * 100,
    ]
    return cases


def test_fuzz_hostile_uploads_never_break_the_service(client):
    rng = random.Random(6)
    statuses = []
    for index, data in enumerate(_hostile_uploads(rng)):
        if index % 2:
            response = client.post("/v1/read", files={"file": (f"f{index}.jpg", data, "image/jpeg")})
        else:
            response = client.post("/v1/read", content=data)
        statuses.append(response.status_code)
        assert response.status_code == 200 or 400 <= response.status_code < 500, (index, response.text)
        assert "error" in response.json() or "plates" in response.json()
    assert statuses.count(200) < len(statuses)  # the fuzz did reach the error paths
    assert client.get("/healthz").status_code == 200
    after = client.post("/v1/read", files={"file": ("car.jpg", io.BytesIO(JPEG))})
    assert [p["text"] for p in after.json()["plates"]] == ["AA1234BC"]


def test_unknown_routes_and_methods_are_json(client):
    assert client.get("/v2/whatever").json()["error"] == "http_error"
    assert client.get("/v1/read").status_code == 405
