"""The REST service: ``POST /v1/read``, ``GET /healthz``, ``GET /v1/models``, ``GET /metrics``, OpenAPI docs.

Each worker process builds its readers once (at startup) and runs decoding and inference in a small
thread pool, so the event loop only moves bytes. Requests beyond what the pool can finish within the
timeout are refused at once (503, ``Retry-After``) instead of piling up.

Example:
    >>> import uvicorn
    >>> from numberplate.serve.app import ServeConfig, create_app
    >>> uvicorn.run(create_app(ServeConfig(max_upload_bytes=10 << 20)), port=8000)  # doctest: +SKIP
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations at run time.
import asyncio
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field

from numberplate import __version__
from numberplate.batch import ReaderOptions, image_record
from numberplate.errors import NumberplateError
from numberplate.serve.metrics import Metrics
from numberplate.serve.uploads import RequestError, Upload, decode_upload, parse_multipart, too_large

# The environment variable that carries the config to uvicorn's worker processes (--workers N).
CONFIG_ENV = "NUMBERPLATE_SERVE_CONFIG"

log = logging.getLogger("numberplate.serve")


@dataclass(frozen=True)
class ServeConfig:
    """Limits and reader settings of one service.

    Attributes:
        reader: how to build the reader (default region, classifier, models, threshold).
        max_upload_bytes: larger request bodies get 413.
        max_pixels: images whose header declares more pixels get 413 before being decoded.
        request_timeout_s: the whole request (upload + queue + inference); past it 503 (inference) or
            408 (a client too slow to send its upload).
        inference_threads: photos read at once per worker process.
        max_queue: requests waiting or running per worker before new ones get 503 at once.
    """

    reader: ReaderOptions = field(default_factory=ReaderOptions)
    max_upload_bytes: int = 20 << 20
    max_pixels: int = 40_000_000
    request_timeout_s: float = 30.0
    inference_threads: int = 2
    max_queue: int = 64

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "ServeConfig":
        values = json.loads(text)
        return cls(**{**values, "reader": ReaderOptions(**values.get("reader", {}))})


class Service:
    """What one worker process holds: readers (one per requested region), the thread pool, metrics."""

    def __init__(self, config: ServeConfig):
        self.config = config
        options = config.reader
        if options.threads is None:  # share the cores among the photos read at once
            options = ReaderOptions(**{**asdict(options), "threads": max(1, (os.cpu_count() or 1)
                                                                       // config.inference_threads)})
        self.options = options
        self.base = options.build()
        self.readers = {options.region: self.base}
        self.models_used: set[str] = set()
        self._lock = threading.Lock()
        self.pool = ThreadPoolExecutor(config.inference_threads, thread_name_prefix="numberplate-infer")
        self.pending = 0
        self.started = time.time()
        self.metrics = Metrics()
        for name, kind, text in (
                ("requests_total", "counter", "HTTP requests by route, method and status"),
                ("request_seconds", "histogram", "time from request start to response, by route"),
                ("inference_seconds", "histogram", "decode + detect + read of one upload"),
                ("plates_total", "counter", "plates returned"),
                ("rejected_total", "counter", "uploads refused, by reason"),
                ("in_flight", "gauge", "reads waiting or running in this worker")):
            self.metrics.describe(name, kind, text)

    def reader_for(self, region: str | None):
        """The reader of ``region`` (sharing the detector and classifier of the default one)."""
        region = region.lower() if region else self.options.region
        with self._lock:
            if region not in self.readers:
                from numberplate.reader import Reader

                base = self.base
                self.readers[region] = Reader(region=region, detector=base.detector, classifier=base.classifier,
                                              use_classifier=base.classifier is not None,
                                              ocr_model=self.options.ocr_model, threads=self.options.threads)
            return self.readers[region]

    def read(self, upload: Upload, region: str | None, min_confidence: float) -> dict:
        """Decode and read one upload (runs in the pool)."""
        started = time.perf_counter()
        image = decode_upload(upload.data, upload.name, self.config.max_pixels)
        result = self.reader_for(region).read_array(image, upload.name)
        record = image_record(result)
        record["plates"] = [p for p in record["plates"] if p["confidence"] >= min_confidence]
        self.models_used.update(p["model"] for p in record["plates"] if p.get("model"))
        self.metrics.observe("inference_seconds", time.perf_counter() - started)
        self.metrics.inc("plates_total", value=len(record["plates"]))
        return record

    def models(self) -> list[dict]:
        """Cards (name, task, version, metrics, sha256) of the models this worker uses or may use."""
        from numberplate.runtime import list_shipped_models

        loaded = {self.base.detector.model.name}
        if self.base.classifier is not None:
            loaded.add(self.base.classifier.model.name)
        cards = {c["name"]: c for c in list_shipped_models()}
        for model in (self.base.detector.model, getattr(self.base.classifier, "model", None)):
            if model is not None:
                cards[model.name] = model.card  # a model given by path is not among the shipped ones
        wanted = [c for c in cards.values() if c["name"] in loaded or c.get("task") == "ocr"]
        return [{"name": c["name"], "task": c.get("task"), "version": c.get("version"),
                 "architecture": c.get("architecture"), "metrics": c.get("metrics", {}),
                 "sha256": c.get("sha256"), "loaded": c["name"] in loaded or c["name"] in self.models_used}
                for c in wanted]

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _error(status: int, code: str, message: str, headers: dict | None = None):
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


async def _read_body(request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, "bad_request", f"Content-Length is not a number: {declared[:40]!r}")
        if int(declared) > limit:
            raise too_large(int(declared), limit)
    from starlette.requests import ClientDisconnect

    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(size, limit)
            chunks.append(chunk)
    except ClientDisconnect:
        # Nobody is left to answer; the status only counts the request in /metrics (nginx's 499).
        raise RequestError(499, "client_disconnected", f"the client hung up after {size} bytes") from None
    return b"".join(chunks)


async def _upload(request, config: ServeConfig) -> Upload:
    """The image bytes and options of a request: multipart (field ``file``) or the raw body."""
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException
    from starlette.requests import Request

    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        raise RequestError(415, "unsupported_media_type", "send the image as multipart/form-data (field 'file') "
                           "or as the raw request body")
    body = await _read_body(request, config.max_upload_bytes)
    if content_type != "multipart/form-data":
        return Upload(body, request.query_params.get("name"), {})

    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=4, max_fields=16,
                                                         max_part_size=config.max_upload_bytes)
    except (MultiPartException, HTTPException) as exc:  # Starlette wraps parser errors in a 400
        detail = getattr(exc, "message", None) or getattr(exc, "detail", "")
        raise RequestError(400, "bad_multipart", f"malformed multipart body: {detail}") from None
    try:
        file, options = parse_multipart(form)
        data = await file.read()
        return Upload(data, file.filename, options)
    finally:
        await form.close()


def _options(request, upload: Upload) -> tuple[str | None, float]:
    region = request.query_params.get("region") or upload.options.get("region") or None
    raw = request.query_params.get("min_confidence") or upload.options.get("min_confidence") or "0"
    try:
        min_confidence = float(raw)
    except ValueError:
        raise RequestError(422, "bad_option", f"min_confidence must be a number in 0..1, got {raw[:40]!r}") from None
    if not 0.0 <= min_confidence <= 1.0:
        raise RequestError(422, "bad_option", f"min_confidence must be in 0..1, got {min_confidence}")
    if region is not None:
        from numberplate.regions import resolve

        try:
            resolve(region.lower())
        except KeyError as exc:
            raise RequestError(422, "bad_option", f"region: {exc.args[0]}") from None
    return region, min_confidence


READ_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary", "description": "the photo (JPEG, PNG, WebP...)"},
                "region": {"type": "string", "description": "force this region (ua, de, us...)"},
                "min_confidence": {"type": "number", "description": "drop plates read with less confidence"},
            }}},
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    "parameters": [
        {"name": "region", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "force this region for every plate (default: the classifier's per plate)"},
        {"name": "min_confidence", "in": "query", "required": False, "schema": {"type": "number"},
         "description": "drop plates read with a lower confidence (0..1)"},
        {"name": "name", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "the image name to report for a raw-body upload"},
    ],
}


def create_app(config: ServeConfig | None = None):
    """The FastAPI app; models are loaded when it starts (its lifespan), once per worker process."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import PlainTextResponse
    from starlette.exceptions import HTTPException

    config = config or ServeConfig()

    @asynccontextmanager
    async def lifespan(app):
        app.state.service = await asyncio.to_thread(Service, config)
        try:
            yield
        finally:
            app.state.service.close()

    app = FastAPI(title="numberplate", version=__version__, lifespan=lifespan,
                  description="Find and read vehicle licence plates in photos. `POST /v1/read` returns the "
                              "JSON line of `numberplate read --format jsonl`.")

    @app.middleware("http")
    async def measure(request: Request, call_next):
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            path = getattr(route, "path", "other")  # unmatched paths share one label: no label explosion
            service = getattr(request.app.state, "service", None)
            if service is not None:
                labels = {"route": path, "method": request.method, "status": str(status)}
                service.metrics.inc("requests_total", labels)
                service.metrics.observe("request_seconds", time.perf_counter() - started, {"route": path})

    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError):
        request.app.state.service.metrics.inc("rejected_total", {"reason": exc.code})
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return _error(exc.status_code, "http_error", str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        return _error(422, "bad_option", "; ".join(str(e.get("msg")) for e in exc.errors()))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return _error(500, "internal_error", f"{type(exc).__name__}: the server failed on this request")

    @app.post("/v1/read", openapi_extra=READ_DOC, summary="Find and read every plate in one photo")
    async def read(request: Request) -> dict:
        """Upload a photo as multipart field `file` or as the raw body; get its plates."""
        service: Service = request.app.state.service
        deadline = time.perf_counter() + config.request_timeout_s
        try:
            async with asyncio.timeout(config.request_timeout_s):
                upload = await _upload(request, config)
        except TimeoutError:
            raise RequestError(408, "timeout", f"the upload did not arrive within {config.request_timeout_s:g} s") \
                from None
        region, min_confidence = _options(request, upload)
        if service.pending >= config.max_queue:
            service.metrics.inc("rejected_total", {"reason": "busy"})
            return _error(503, "busy", f"{service.pending} reads queued; try again shortly", {"Retry-After": "1"})
        service.pending += 1
        service.metrics.set("in_flight", service.pending)
        try:
            future = asyncio.get_running_loop().run_in_executor(service.pool, service.read, upload, region,
                                                                min_confidence)
            try:
                return await asyncio.wait_for(future, max(0.001, deadline - time.perf_counter()))
            except TimeoutError:
                service.metrics.inc("rejected_total", {"reason": "timeout"})
                return _error(503, "timeout", f"no result within {config.request_timeout_s:g} s (server busy)",
                              {"Retry-After": "1"})
            except NumberplateError as exc:
                raise RequestError(422, "bad_option", str(exc)) from None
        finally:
            service.pending -= 1
            service.metrics.set("in_flight", service.pending)

    @app.get("/healthz", summary="Liveness: the models are loaded and the worker answers")
    async def healthz(request: Request) -> dict:
        service: Service = request.app.state.service
        return {"status": "ok", "version": __version__, "pid": os.getpid(), "in_flight": service.pending,
                "uptime_s": round(time.time() - service.started, 1)}

    @app.get("/v1/models", summary="Names, versions and measured metrics of the models")
    async def models(request: Request) -> dict:
        service: Service = request.app.state.service
        return {"models": service.models(), "reader": asdict(service.options),
                "limits": {"max_upload_bytes": config.max_upload_bytes, "max_pixels": config.max_pixels,
                           "request_timeout_s": config.request_timeout_s}}

    @app.get("/metrics", summary="Prometheus metrics of this worker process", response_class=PlainTextResponse)
    async def metrics(request: Request):
        return PlainTextResponse(request.app.state.service.metrics.render(),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    return app


def app_from_env():
    """App factory for uvicorn's worker processes: the config comes in :data:`CONFIG_ENV`."""
    text = os.environ.get(CONFIG_ENV)
    return create_app(ServeConfig.from_json(text) if text else None)
