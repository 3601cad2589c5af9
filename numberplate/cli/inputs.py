"""Turn command-line image arguments (files, folders, glob patterns) into a list of image paths."""

from __future__ import annotations

import glob
from pathlib import Path

from numberplate.data.images import IMAGE_SUFFIXES
from numberplate.errors import InputError


def expand_image_args(args: list[str]) -> tuple[list[Path], list[InputError]]:
    """Files as given; folders -> their images (recursively, sorted); globs -> their matches.

    Returns:
        The paths, and one error per argument that named nothing usable (missing file, empty folder,
        glob without matches).
    """
    paths: list[Path] = []
    errors: list[InputError] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                errors.append(InputError(path, "folder holds no images (" + ", ".join(IMAGE_SUFFIXES) + ")"))
            paths.extend(found)
        elif path.exists():
            paths.append(path)
        elif any(ch in arg for ch in "*?["):
            found = sorted(Path(p) for p in glob.glob(arg, recursive=True) if Path(p).is_file())
            if not found:
                errors.append(InputError(arg, "pattern matches no files"))
            paths.extend(found)
        else:
            errors.append(InputError(path, "file not found"))
    return paths, errors
