"""``numberplate annotate``: the dataset workbench in the browser (needs the ``[web]`` extra)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "annotate", help="moderate OCR crops or draw plate corners in the browser",
        description="Start the annotation web app on this machine and print its URL. The folder picks the "
                    "screen: a Nomeroff OCR set ({train,val,test}/{ann,img}) opens the moderation queue "
                    "(keyboard first: type, Enter saves and moves on); a VIA set (via_region_data.json beside "
                    "the photos, or a folder of photos) opens the plate-corner editor, pre-annotated by the "
                    "detector. Every save is atomic; a save based on a stale copy (another tab or person saved "
                    "first) is refused with a message instead of overwriting.",
        epilog="Example: numberplate annotate ../shared/data/ocr/eu-unlabelled --port 8080")
    parser.add_argument("dataset", metavar="DATASET_DIR")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--read-only", action="store_true", help="browse only: every save answers 403")
    parser.add_argument("--user", help="name written as moderatedBy (default: your login name)")
    parser.add_argument("--engine", choices=("numberplate", "tesseract", "none"), default="numberplate",
                        help="reads crops that have no stored reading (default numberplate; see data prelabel); "
                             "none loads no model at all (no live readings, no detector pre-annotation)")
    parser.add_argument("--region", help="read crops as this region (default: the classifier decides)")
    parser.add_argument("--max-request-mb", type=float, default=1.0,
                        help="largest request body accepted, in MiB (default 1)")
    parser.add_argument("--write-delay", type=float, default=0.0, help=argparse.SUPPRESS)  # crash tests only
    parser.set_defaults(func=run)
    return parser


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args) -> int:
    import getpass
    import socket
    from pathlib import Path

    from numberplate.errors import InputError, NumberplateError

    try:
        import uvicorn

        from numberplate.web.app import LOOPBACK_NAMES, AnnotateConfig, create_app
    except ImportError as exc:
        raise NumberplateError(f"the annotation tool needs the web extra ({exc.name} is missing): "
                               "pip install 'numberplate[web]'") from None
    if not 0 <= args.port <= 65535:
        raise InputError(None, f"--port must be 0..65535, got {args.port}")
    if args.max_request_mb <= 0:
        raise InputError(None, "--max-request-mb must be positive")
    loopback = _is_loopback(args.host)
    try:
        user = args.user or getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    config = AnnotateConfig(root=Path(args.dataset), read_only=args.read_only, user=user, engine=args.engine,
                            region=args.region, max_request_bytes=int(args.max_request_mb * (1 << 20)),
                            allowed_hosts=LOOPBACK_NAMES if loopback else ("*",), write_delay=args.write_delay)
    app = create_app(config)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host.strip("[]"), args.port))
        sock.listen(128)  # connections wait in the backlog until the server runs: the printed URL works at once
    except OSError as exc:
        sock.close()
        raise NumberplateError(f"cannot listen on {args.host}:{args.port} ({exc.strerror}); "
                               "try another --port (0 picks a free one)") from None
    port = sock.getsockname()[1]
    shown = f"[{args.host.strip('[]')}]" if family == socket.AF_INET6 else args.host
    summary = app.state.store.summary()
    what = "moderation" if app.state.store.mode == "moderation" else "detection annotation"
    print(f"numberplate annotate: {what} of {app.state.store.root} ({summary['items']} items, "
          f"{summary['moderated']} done){' [read-only]' if args.read_only else ''}", file=sys.stderr)
    if not loopback:
        print(f"warning: listening on {args.host}: anyone who can reach this machine can edit the dataset",
              file=sys.stderr)
    print(f"http://{shown}:{port}/", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
