"""Image reading with clear errors (unreadable, truncated, empty) instead of ``None`` surprises."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from numberplate.errors import InputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")

_JPEG_END = b"\xff\xd9"
_PNG_END = b"IEND"


def _looks_truncated(data: bytes) -> bool:
    # OpenCV decodes truncated JPEGs silently with a grey tail; the end markers tell us.
    if data[:2] == b"\xff\xd8":
        return _JPEG_END not in data[-1024:]
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _PNG_END not in data[-64:]
    return False


def decode_image(data: bytes, name: str | Path = "<bytes>") -> np.ndarray:
    """Decode encoded image bytes to an RGB uint8 array (H x W x 3).

    Raises:
        InputError: the bytes are empty, not an image, or a truncated JPEG/PNG.
    """
    if not data:
        raise InputError(name, "file is empty")
    if _looks_truncated(data):
        raise InputError(name, "image file is truncated (end marker missing)")
    array = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(array, cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(name, "not a readable image (unknown format or corrupt data)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB uint8 (H x W x 3), with an error that names the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, expected an image file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read file ({exc.strerror})") from None
    return decode_image(data, path)


def write_image(path: str | Path, image: np.ndarray, jpeg_quality: int = 95) -> None:
    """Write an RGB image atomically (temp file + rename) so a crash never leaves half a file."""
    path = Path(path)
    suffix = path.suffix.lower() or ".png"
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if suffix in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(suffix, cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise InputError(path, "could not encode image")
    from numberplate.data.atomic import atomic_write_bytes

    atomic_write_bytes(path, buf.tobytes())
