"""Turning an untrusted upload into an RGB array, or a :class:`RequestError` that says what is wrong.

Every limit is checked before the expensive step it guards: the declared length before reading, the
bytes read before parsing, the pixel count (read from the file header) before decoding, so a small
file that claims gigapixels (a decompression bomb) is refused without allocating them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from numberplate.errors import InputError

# Form fields an upload may carry besides the file.
OPTION_FIELDS = ("region", "min_confidence")
FILE_FIELDS = ("file", "image")


@dataclass
class RequestError(Exception):
    """A client error: HTTP status, a short machine-readable code and a message naming the upload."""

    status: int
    code: str
    message: str

    def body(self) -> dict:
        return {"error": self.code, "message": self.message}


@dataclass(frozen=True)
class Upload:
    """The image bytes of a request, the name it came with and its form options."""

    data: bytes
    name: str | None
    options: dict


def too_large(size: int, limit: int) -> RequestError:
    return RequestError(413, "too_large", f"upload of {size} bytes exceeds the limit of {limit} bytes")


def parse_multipart(form, name_hint: str | None = None) -> tuple[object, dict]:
    """``(the uploaded file, option fields)`` of a parsed form, or a 422 naming the expected field."""
    files = [(k, v) for k, v in form.multi_items() if hasattr(v, "read")]
    options = {k: v for k, v in form.multi_items() if k in OPTION_FIELDS and isinstance(v, str)}
    unknown = sorted({k for k, _ in form.multi_items()} - set(OPTION_FIELDS) - set(FILE_FIELDS))
    chosen = [v for k, v in files if k in FILE_FIELDS]
    if unknown or len(chosen) != 1 or len(files) != 1:
        got = ", ".join(sorted({k for k, _ in form.multi_items()})) or "none"
        raise RequestError(422, "wrong_field", f"expected one image file in form field 'file' (and optional "
                           f"fields {', '.join(OPTION_FIELDS)}); got fields: {got}")
    return chosen[0], options


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from the file header without decoding pixels; None for unknown formats."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Image.DecompressionBombError:
        return (1 << 31, 1)  # Pillow refused on size alone: more pixels than any limit we allow
    except Exception:  # Pillow raises many types (SyntaxError, struct.error...) for hostile headers
        return None


def decode_upload(data: bytes, name: str | None, max_pixels: int) -> np.ndarray:
    """Check and decode an upload to RGB uint8, or raise :class:`RequestError` (400, 413 or 415)."""
    from numberplate.data.images import decode_image

    label = name or "upload"
    if not data:
        raise RequestError(400, "empty", f"{label}: the upload is empty")
    size = image_size(data)
    if size is None:
        raise RequestError(415, "not_an_image", f"{label}: not a readable image (unknown format or corrupt data)")
    width, height = size
    if width * height > max_pixels:
        raise RequestError(413, "too_many_pixels", f"{label}: {width}x{height} pixels exceed the limit of "
                           f"{max_pixels} pixels")
    if width <= 0 or height <= 0:
        raise RequestError(400, "not_an_image", f"{label}: image header gives no size")
    try:
        image = decode_image(data, label)
    except InputError as exc:
        code = "truncated" if "truncated" in exc.problem else "not_an_image"
        raise RequestError(400, code, str(exc)) from None
    if image.shape[0] * image.shape[1] > max_pixels:  # the header lied
        raise RequestError(413, "too_many_pixels", f"{label}: more pixels than the limit of {max_pixels}")
    return image
