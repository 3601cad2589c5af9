"""``numberplate serve``: the REST service (FastAPI + uvicorn, from the ``[web]`` extra)."""

from __future__ import annotations

import argparse
import os

from numberplate.errors import NumberplateError


def register(subparsers) -> argparse.ArgumentParser:
    from numberplate.cli.reader_args import add_reader_arguments

    parser = subparsers.add_parser(
        "serve", help="serve plate reading over HTTP (POST /v1/read)",
        description="Serve the pipeline over HTTP: POST /v1/read (multipart field 'file' or the raw image as "
                    "the body; optional region, min_confidence) returns the JSON line of "
                    "`numberplate read --format jsonl`. Also GET /healthz, /v1/models, /metrics (Prometheus) "
                    "and the OpenAPI docs at /docs. Needs the [web] extra.",
        epilog="Example: numberplate serve --port 8000 --workers 2\n"
               "  curl -F file=@examples/car-ua.jpg 'http://127.0.0.1:8000/v1/read?region=ua'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 "
                        "for every interface)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes, each loading the models once "
                        "(default 1)")
    add_reader_arguments(parser, region_help="default region for every plate (a request's region overrides it)",
                         threads_help="ONNX Runtime threads per reader (default: the cores divided among --workers x "
                         "--inference-threads)")
    parser.add_argument("--inference-threads", type=int, default=2, help="photos read at once per worker "
                        "(default 2)")
    parser.add_argument("--max-upload-mb", type=float, default=20.0, help="largest request body (default 20 MB)")
    parser.add_argument("--max-pixels", type=int, default=40_000_000, help="largest image, in pixels, checked "
                        "from its header before decoding (default 40,000,000)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request: upload, queue and "
                        "inference (default 30)")
    parser.add_argument("--max-queue", type=int, default=64, help="reads waiting per worker before new requests "
                        "get 503 at once (default 64)")
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    parser.set_defaults(func=run)
    return parser


def config_from_args(args):
    from numberplate.cli.reader_args import reader_options
    from numberplate.serve.app import ServeConfig

    for name in ("workers", "inference_threads", "max_queue", "max_pixels"):
        if getattr(args, name) < 1:
            raise NumberplateError(f"--{name.replace('_', '-')} must be >= 1")
    if args.max_upload_mb <= 0 or args.timeout <= 0:
        raise NumberplateError("--max-upload-mb and --timeout must be > 0")
    # Without --threads, the cores divided; an explicit one (even 0) goes to ReaderOptions, which checks it.
    threads = max(1, (os.cpu_count() or 1) // (args.workers * args.inference_threads))
    reader = reader_options(args, threads)
    return ServeConfig(reader=reader, max_upload_bytes=int(args.max_upload_mb * (1 << 20)),
                       max_pixels=args.max_pixels, request_timeout_s=args.timeout,
                       inference_threads=args.inference_threads, max_queue=args.max_queue)


def run(args) -> int:
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError:
        raise NumberplateError("numberplate serve needs the [web] extra: pip install 'numberplate[web]'") from None
    from numberplate.serve.app import CONFIG_ENV, create_app

    config = config_from_args(args)
    # Load the models once here first: a bad region or model path fails now, with a clear message.
    config.reader.build()
    common = dict(host=args.host, port=args.port, log_level=args.log_level, timeout_keep_alive=5,
                  limit_concurrency=max(256, 4 * config.max_queue * args.workers))
    if args.workers == 1:
        uvicorn.run(create_app(config), **common)
    else:
        # Worker processes build the app themselves from this variable (uvicorn needs an import string).
        os.environ[CONFIG_ENV] = config.to_json()
        uvicorn.run("numberplate.serve.app:app_from_env", factory=True, workers=args.workers, **common)
    return 0
