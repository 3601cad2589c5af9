"""Font lookup for the plate renderer: user folders first, then system and bundled fonts."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

SYSTEM_FONT_DIRS = (Path("/usr/share/fonts/truetype/opendin"), Path("/usr/share/fonts/truetype"))
FONT_SUFFIXES = (".ttf", ".otf", ".woff2", ".woff")


def bundled_font_dir() -> Path:
    return Path(__file__).with_name("fonts")


def font_search_path(extra_dirs: tuple[str | Path, ...] = ()) -> tuple[Path, ...]:
    """Folders searched for fonts, in order: ``--fonts`` folders, ``$NUMBERPLATE_FONTS``, system, bundled."""
    env = tuple(Path(p) for p in os.environ.get("NUMBERPLATE_FONTS", "").split(os.pathsep) if p)
    return tuple(Path(d) for d in extra_dirs) + env + SYSTEM_FONT_DIRS + (bundled_font_dir(),)


@lru_cache(maxsize=256)
def _index(folders: tuple[Path, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in FONT_SUFFIXES:
                found.setdefault(path.name, path)
    return found


class FontBook:
    """Resolves font file names to paths and caches loaded Pillow fonts per size."""

    def __init__(self, extra_dirs: tuple[str | Path, ...] = ()):
        self.folders = font_search_path(tuple(extra_dirs))
        self.paths = _index(self.folders)
        self._cache: dict[tuple[Path, int], object] = {}

    def available(self, names: tuple[str, ...]) -> list[Path]:
        """The fonts of ``names`` that exist, in order; the bundled Barlow when none does."""
        found = [self.paths[n] for n in names if n in self.paths]
        return found or [bundled_font_dir() / "barlow-condensed-latin-600-normal.woff2"]

    def load(self, path: Path, size: int):
        from PIL import ImageFont

        key = (path, size)
        if key not in self._cache:
            self._cache[key] = ImageFont.truetype(str(path), size)
        return self._cache[key]
