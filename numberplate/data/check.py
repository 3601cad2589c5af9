"""Dataset validation: every problem with the file it is in, instead of a traceback deep in training."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from numberplate.data.images import IMAGE_SUFFIXES, read_image
from numberplate.data.nomeroff import iter_records, split_dirs
from numberplate.errors import InputError
from numberplate.regions import LATIN_ALPHABET, to_internal


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class CheckReport:
    root: Path
    items: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_ocr_dataset(root: str | Path, alphabet: str = LATIN_ALPHABET, allow_unlabelled: bool = False,
                      open_images: bool = True) -> CheckReport:
    """Check a Nomeroff-layout dataset.

    Looks for: folders that are not a dataset, bad JSON or field values, annotations without an image,
    images without an annotation, unreadable or truncated images, empty texts (unless
    ``allow_unlabelled``), characters outside ``alphabet`` (after Cyrillic look-alikes are mapped).
    """
    root = Path(root)
    problems: list[Problem] = []
    items = 0
    try:
        splits = split_dirs(root)
    except InputError as exc:
        return CheckReport(root, 0, [Problem(exc.path or str(root), exc.problem)])
    allowed = set(alphabet)
    for split in splits:
        errors: list[InputError] = []
        seen_stems = set()
        for record in iter_records(split, errors):
            items += 1
            seen_stems.add(record.image_path.stem)
            where = str(record.ann_path)
            if open_images:
                try:
                    read_image(record.image_path)
                except InputError as exc:
                    problems.append(Problem(exc.path, exc.problem))
            text = to_internal(record.text)
            if not text:
                if not allow_unlabelled and record.state == "readable":
                    problems.append(Problem(where, "empty text (description) on a readable plate"))
                continue
            bad = sorted({c for c in text if c not in allowed})
            if bad:
                problems.append(Problem(where, f"text {record.text!r} has characters outside the alphabet: "
                                               + " ".join(repr(c) for c in bad)))
        items += len(errors)
        problems.extend(Problem(e.path or str(split), e.problem) for e in errors)
        seen_stems.update(Path(e.path).stem for e in errors if e.path)
        img_dir = split / "img"
        if not img_dir.is_dir():
            problems.append(Problem(str(split), "has no img/ folder"))
            continue
        for image in sorted(img_dir.iterdir()):
            if image.suffix.lower() in IMAGE_SUFFIXES and image.stem not in seen_stems:
                problems.append(Problem(str(image), "image has no annotation in ann/"))
    if items == 0:
        problems.append(Problem(str(root), "dataset has no annotations"))
    return CheckReport(root, items, problems)
