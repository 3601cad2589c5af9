"""Drawing results onto photos (for ``--draw`` and evaluation reports)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from numberplate.types import ImageResult


def draw_result(image: np.ndarray, result: ImageResult) -> np.ndarray:
    """A copy of the RGB photo with each plate's quadrilateral, text and confidence drawn."""
    out = image.copy()
    thickness = max(1, round(max(image.shape[:2]) / 600))
    for plate in result.plates:
        quad = np.round(np.array(plate.detection.corners)).astype(np.int32)
        cv2.polylines(out, [quad], True, (0, 255, 0), thickness, cv2.LINE_AA)
        cv2.circle(out, tuple(int(v) for v in quad[0]), thickness + 2, (255, 0, 0), -1)  # the top-left corner
        label = f"{plate.text or '?'} {plate.confidence:.2f}"
        scale = 0.5 * thickness
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        x, y = int(plate.detection.box[0]), int(plate.detection.box[1]) - 4
        y = y if y - th > 0 else int(plate.detection.box[3]) + th + 4
        cv2.rectangle(out, (x, y - th - 3), (x + tw + 2, y + 3), (0, 0, 0), -1)
        cv2.putText(out, label, (x + 1, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 0), thickness, cv2.LINE_AA)
    return out


def write_drawing(image: np.ndarray, out_dir: str | Path, source: str | Path) -> Path:
    """Write the drawn RGB image as ``out_dir/<source name>.jpg`` (atomically)."""
    from numberplate.data.atomic import atomic_write_bytes

    target = Path(out_dir) / (Path(source).stem + ".jpg")
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    atomic_write_bytes(target, buf.tobytes())
    return target
