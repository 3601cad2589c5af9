"""Drawing results onto photos (for ``--draw`` and evaluation reports)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from numberplate.types import ImageResult


def draw_plate(out: np.ndarray, plate, label: str, thickness: int, mark_first_corner: bool = True) -> None:
    """Draw one plate's quadrilateral and a label above it (below when at the top edge), in place."""
    quad = np.round(np.array(plate.detection.corners)).astype(np.int32)
    cv2.polylines(out, [quad], True, (0, 255, 0), thickness, cv2.LINE_AA)
    if mark_first_corner:
        cv2.circle(out, tuple(int(v) for v in quad[0]), thickness + 2, (255, 0, 0), -1)  # the top-left corner
    scale = 0.5 * thickness
    (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x, y = int(plate.detection.box[0]), int(plate.detection.box[1]) - 4
    y = y if y - th > 0 else int(plate.detection.box[3]) + th + 4
    cv2.rectangle(out, (x, y - th - 3), (x + tw + 2, y + 3), (0, 0, 0), -1)
    cv2.putText(out, label, (x + 1, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 0), thickness, cv2.LINE_AA)


def line_thickness(image: np.ndarray) -> int:
    return max(1, round(max(image.shape[:2]) / 600))


def draw_result(image: np.ndarray, result: ImageResult) -> np.ndarray:
    """A copy of the RGB photo with each plate's quadrilateral, text (or state) and confidence drawn."""
    out = image.copy()
    thickness = line_thickness(image)
    for plate in result.plates:
        text = plate.text or (f"({plate.state})" if plate.state else "?")
        draw_plate(out, plate, f"{text} {plate.confidence:.2f}", thickness)
    return out


def write_drawing(image: np.ndarray, out_dir: str | Path, source: str | Path) -> Path:
    """Write the drawn RGB image as ``out_dir/<source name>.jpg`` (atomically)."""
    from numberplate.data.atomic import atomic_write_bytes

    target = Path(out_dir) / (Path(source).stem + ".jpg")
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    atomic_write_bytes(target, buf.tobytes())
    return target
