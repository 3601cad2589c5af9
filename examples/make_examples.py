"""Re-create the example images from scratch (no third-party photos): ``python examples/make_examples.py``.

``plate-ua.jpg`` is one synthetic plate crop; ``car-ua.jpg`` is a drawn street scene with a car seen
from behind carrying a Ukrainian plate, placed in perspective by the scene synthesizer's camera model.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from numberplate.regions import get_spec
from numberplate.synth.fonts import FontBook
from numberplate.synth.render import render_plate
from numberplate.synth.scene import posed_corners

HERE = Path(__file__).resolve().parent


def _street(rng: np.random.Generator, width: int = 1280, height: int = 720) -> np.ndarray:
    """Sky, buildings, road and a car from behind (RGB), drawn with OpenCV primitives."""
    image = np.zeros((height, width, 3), np.uint8)
    sky = np.linspace(200, 150, height // 2)[:, None, None] * np.array([0.8, 0.9, 1.0])
    image[: height // 2] = sky.astype(np.uint8)
    for x in range(0, width, 160):  # buildings
        top = int(rng.integers(60, 220))
        colour = tuple(int(c) for c in rng.integers(90, 170, 3))
        cv2.rectangle(image, (x, top), (x + 150, height // 2 + 40), colour, -1)
        for wy in range(top + 20, height // 2 + 20, 40):
            for wx in range(x + 15, x + 140, 35):
                cv2.rectangle(image, (wx, wy), (wx + 18, wy + 22), (60, 70, 90), -1)
    road = np.linspace(95, 60, height - height // 2 - 40)[:, None, None].repeat(3, axis=2)
    image[height // 2 + 40:] = road.astype(np.uint8)
    cv2.line(image, (width // 2, height // 2 + 40), (width // 2 - 60, height), (210, 210, 200), 6)
    # The car: body, rear window, lights, bumper, wheels, shadow.
    cx, base = 640, 640
    cv2.ellipse(image, (cx, base + 10), (330, 30), 0, 0, 360, (35, 35, 35), -1)
    cv2.rectangle(image, (cx - 300, base - 60), (cx - 220, base + 20), (20, 20, 20), -1)
    cv2.rectangle(image, (cx + 220, base - 60), (cx + 300, base + 20), (20, 20, 20), -1)
    body = np.array([[cx - 310, base], [cx - 320, base - 170], [cx - 250, base - 300], [cx + 250, base - 300],
                     [cx + 320, base - 170], [cx + 310, base]], np.int32)
    cv2.fillPoly(image, [body], (150, 30, 35))
    window = np.array([[cx - 230, base - 290], [cx + 230, base - 290], [cx + 280, base - 190],
                       [cx - 280, base - 190]], np.int32)
    cv2.fillPoly(image, [window], (50, 60, 75))
    cv2.rectangle(image, (cx - 300, base - 165), (cx - 210, base - 120), (200, 40, 30), -1)
    cv2.rectangle(image, (cx + 210, base - 165), (cx + 300, base - 120), (200, 40, 30), -1)
    cv2.rectangle(image, (cx - 315, base - 60), (cx + 315, base), (40, 40, 45), -1)
    cv2.rectangle(image, (cx - 130, base - 115), (cx + 130, base - 55), (30, 30, 30), -1)  # plate recess
    return image


def _paste(image: np.ndarray, plate, dst: np.ndarray) -> np.ndarray:
    matrix = cv2.getPerspectiveTransform(plate.corners.astype(np.float32), dst.astype(np.float32))
    size = (image.shape[1], image.shape[0])
    warped = cv2.warpPerspective(plate.image, matrix, size, flags=cv2.INTER_AREA)
    alpha = cv2.warpPerspective(plate.mask, matrix, size).astype(np.float32)[:, :, None] / 255.0
    return (image * (1 - alpha) + warped * alpha).astype(np.uint8)


def main() -> None:
    rng = np.random.default_rng(2026)
    fonts = FontBook()
    spec = get_spec("ua-2015")
    plate = render_plate(spec, "AA1234BC", rng, fonts, px_per_mm=1.0)
    street = _street(rng)
    dst = posed_corners(240, 520 / 112, (640, 555), focal=1400, yaw_deg=12, pitch_deg=6, roll_deg=1.5)
    car = _paste(street, plate, dst)
    car = cv2.GaussianBlur(car, (0, 0), 0.6)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(car, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    (HERE / "car-ua.jpg").write_bytes(buf.tobytes())
    print(f"wrote {HERE / 'car-ua.jpg'}: plate AA1234BC at corners {np.round(dst, 1).tolist()}")


if __name__ == "__main__":
    main()
