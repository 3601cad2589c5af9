"""The annotation web app: ``create_app(AnnotateConfig(...))`` gives a FastAPI application.

One page per mode, plain HTML/JS/CSS from ``static/`` (no build step):

* moderation (Nomeroff OCR set): ``/api/ocr/...``;
* detection (VIA set): ``/api/via/...``.

Safety: the server binds to localhost by default and then only answers requests addressed to a
loopback name (no DNS rebinding); writes need a JSON body and a same-origin ``Origin`` (no cross-site
form posts); bodies are size-limited; ids are checked to stay inside the dataset folder; ``read_only``
makes every write endpoint answer 403.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Body  # this module is the web app: it needs the [web] extra anyway

from numberplate.errors import InputError, NumberplateError

STATIC = Path(__file__).resolve().parent / "static"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class AnnotateConfig:
    """Settings of one annotation server.

    Attributes:
        root: the dataset folder (Nomeroff OCR layout or VIA).
        read_only: refuse every write (HTTP 403).
        user: written as ``moderatedBy``.
        engine: engine for live readings of crops without a stored one (``numberplate``, ``tesseract``,
            ``none``).
        region: read crops as this region (None: the classifier decides).
        max_request_bytes: larger request bodies get HTTP 413.
        allowed_hosts: Host header values answered; ``("*",)`` for any.
        write_delay: seconds to sleep between writing a temp file and renaming it (crash tests only).
    """

    root: Path
    read_only: bool = False
    user: str = ""
    engine: str = "numberplate"
    region: str | None = None
    max_request_bytes: int = 1 << 20
    allowed_hosts: tuple[str, ...] = LOOPBACK_NAMES
    write_delay: float = 0.0


@dataclass
class _Engines:
    """Models built on first use and shared by the app's worker threads (one at a time per model)."""

    region: str | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    built: dict = field(default_factory=dict)

    def get(self, name: str):
        from numberplate.data.prelabel import make_engine

        with self.lock:
            if name not in self.built:
                self.built[name] = make_engine(name, self.region) if name != "detector" else _detector()
            return self.built[name]


def _detector():
    from numberplate.reader import Reader

    return Reader(use_classifier=True)


class _BodyLimit:
    """ASGI middleware: HTTP 413 for bodies over ``limit`` bytes, declared or streamed.

    The body is read here first (it is small by definition) and replayed to the app, so an oversized
    chunked body is refused before any handler sees a byte of it.
    """

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await _plain(send, 413, f"request body over {self.limit} bytes")
        messages, seen = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.limit:
                return await _plain(send, 413, f"request body over {self.limit} bytes")
            if not message.get("more_body"):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _plain(send, status: int, text: str) -> None:
    import json

    body = json.dumps({"error": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(config: AnnotateConfig):
    """Build the app for one dataset folder.

    Raises:
        InputError: the folder is not a Nomeroff OCR set or a VIA set.
    """
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles

    from numberplate.data.revision import StaleRevision
    from numberplate.web.store import Forbidden, NotFound, OcrStore, ViaStore, open_store

    hook = (lambda: time.sleep(config.write_delay)) if config.write_delay > 0 else None
    store = open_store(config.root, config.user, hook)
    engines = _Engines(config.region)
    app = FastAPI(title="numberplate annotate", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.config = config

    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = _host_name(request.headers.get("host") or "")
        if "*" not in config.allowed_hosts and host not in config.allowed_hosts:
            return JSONResponse({"error": f"host {host!r} is not served"}, status_code=400)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            origin = request.headers.get("origin")
            if origin and urlsplit(origin).netloc != request.headers.get("host"):
                return JSONResponse({"error": "cross-site request refused"}, status_code=403)
            if not request.headers.get("content-type", "").startswith("application/json"):
                return JSONResponse({"error": "send JSON (Content-Type: application/json)"}, status_code=415)
        response = await call_next(request)
        if request.url.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(NotFound)
    async def _not_found(request, exc: NotFound):
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(Forbidden)
    async def _forbidden(request, exc: Forbidden):
        return JSONResponse({"error": str(exc)}, status_code=403)

    @app.exception_handler(NumberplateError)
    async def _bad(request, exc: NumberplateError):
        return JSONResponse({"error": str(exc)}, status_code=400)

    def writable() -> None:
        if config.read_only:
            raise HTTPException(403, "the server runs read-only (--read-only): nothing can be saved")

    def conflict(exc: StaleRevision, current: dict) -> JSONResponse:
        return JSONResponse({"error": "changed elsewhere since you opened it (another tab or person saved it)",
                             "current": current}, status_code=409)

    @app.get("/")
    def page():
        name = "moderate.html" if store.mode == "moderation" else "detect.html"
        return FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})

    @app.get("/api/info")
    def info():
        from numberplate.data.records import NOMEROFF_REGION_NAMES, STATES

        engines_available = []
        if config.engine != "none":
            engines_available.append("numberplate")
        import shutil

        if shutil.which("tesseract"):
            engines_available.append("tesseract")
        return {"mode": store.mode, "root": str(store.root), "name": store.root.name, "read_only": config.read_only,
                "user": config.user, "engine": config.engine, "engines": engines_available, "states": list(STATES),
                "regions": _region_choices(NOMEROFF_REGION_NAMES), "max_request_bytes": config.max_request_bytes}

    # ----------------------------------------------------------------------------------------- OCR
    def ocr() -> OcrStore:
        if not isinstance(store, OcrStore):
            raise HTTPException(404, "this server edits a VIA photo set, not OCR crops")
        return store

    @app.get("/api/ocr/items")
    def ocr_items():
        return {"items": ocr().items()}

    @app.get("/api/ocr/items/{item_id:path}")
    def ocr_item(item_id: str):
        return ocr().item(item_id, with_ann=True)

    @app.get("/api/ocr/image/{item_id:path}")
    def ocr_image(item_id: str):
        return FileResponse(ocr().image_path(item_id), headers={"Cache-Control": "private, max-age=60"})

    @app.put("/api/ocr/items/{item_id:path}")
    def ocr_save(item_id: str, body: Annotated[dict, Body()]):
        writable()
        target = ocr()
        revision = body.get("revision")
        if not isinstance(revision, str):
            raise InputError(None, "revision (from the item you edited) is required")
        try:
            if "restore" in body:
                return target.restore(item_id, revision, body["restore"])
            return target.save(item_id, revision, body.get("text", ""), body.get("region", ""), body.get("lines", 1),
                               body.get("state", "readable"), bool(body.get("moderated", True)), body.get("predicted"))
        except StaleRevision as exc:
            return conflict(exc, target.item(item_id, with_ann=True))

    @app.post("/api/ocr/read/{item_id:path}")
    def ocr_read(item_id: str, body: Annotated[dict | None, Body()] = None):
        engine_name = (body or {}).get("engine") or config.engine
        if engine_name == "none" or engine_name not in ("numberplate", "tesseract"):
            raise InputError(None, f"no reading engine {engine_name!r} on this server")
        target = ocr()
        crop = target.crop(item_id)
        lines = target.item(item_id).get("lines", 1)
        engine = engines.get(engine_name)
        with engines.lock:  # one reading at a time: the models are shared
            prediction = engine.read([crop], [lines])[0]
        return prediction.to_dict()

    # ----------------------------------------------------------------------------------------- VIA
    def via() -> ViaStore:
        if not isinstance(store, ViaStore):
            raise HTTPException(404, "this server moderates OCR crops, not a VIA photo set")
        return store

    @app.get("/api/via/items")
    def via_items():
        return {"items": via().items()}

    @app.get("/api/via/items/{item_id:path}")
    def via_item(item_id: str):
        return via().item(item_id)

    @app.get("/api/via/image/{item_id:path}")
    def via_image(item_id: str):
        return FileResponse(via().photo_path(item_id), headers={"Cache-Control": "private, max-age=60"})

    @app.put("/api/via/items/{item_id:path}")
    def via_save(item_id: str, body: Annotated[dict, Body()]):
        writable()
        target = via()
        revision = body.get("revision")
        if not isinstance(revision, str):
            raise InputError(None, "revision (from the photo you edited) is required")
        try:
            return target.save(item_id, revision, body.get("plates"))
        except StaleRevision as exc:
            return conflict(exc, target.item(item_id))

    @app.post("/api/via/detect/{item_id:path}")
    def via_detect(item_id: str, body: Annotated[dict | None, Body()] = None):
        from numberplate.web.store import plate_to_json

        if config.engine == "none":
            raise InputError(None, "the detector is off on this server (--engine none)")
        photo = via().photo(item_id)
        reader = engines.get("detector")
        with engines.lock:
            result = reader.read_array(photo)
        plates = []
        for plate in result.plates:
            from numberplate.data.records import PlateAnnotation

            annotation = PlateAnnotation(corners=plate.detection.corners, text=plate.text,
                                         region=(plate.reading.region or "") if plate.reading else "")
            plates.append({**plate_to_json(annotation), "score": round(plate.detection.score, 3),
                           "confidence": round(plate.confidence, 3)})
        return {"plates": plates, "width": result.width, "height": result.height}

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(_BodyLimit, limit=config.max_request_bytes)
    return app


def _host_name(header: str) -> str:
    """The host of a Host header, without the port (``[::1]:8080`` -> ``[::1]``)."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0]


def _region_choices(nomeroff_names) -> list[str]:
    """Region codes offered by the page: countries with plate specs, their plate types, Nomeroff's classes."""
    from numberplate.regions import all_specs

    specs = all_specs()
    countries = sorted({s.country for s in specs})
    types = sorted({s.code for s in specs} - set(countries))
    return countries + types + [n for n in nomeroff_names if n not in countries and n not in types]
