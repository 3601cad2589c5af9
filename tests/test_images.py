import cv2
import numpy as np
import pytest

from numberplate.data.images import decode_image, read_image, write_image
from numberplate.errors import InputError


def test_round_trip_keeps_rgb_order(tmp_path):
    image = np.zeros((10, 20, 3), np.uint8)
    image[:, :, 0] = 200  # red
    write_image(tmp_path / "red.png", image)
    back = read_image(tmp_path / "red.png")
    assert back.shape == (10, 20, 3) and back[0, 0].tolist() == [200, 0, 0]


def test_truncated_jpeg_is_reported(tmp_path):
    ok, buf = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.tobytes()[: len(buf) // 2])
    with pytest.raises(InputError, match="cut.jpg: image file is truncated"):
        read_image(path)


@pytest.mark.parametrize("data, message", [(b"", "file is empty"), (b"hello world", "not a readable image")])
def test_bad_bytes(data, message):
    with pytest.raises(InputError, match=message):
        decode_image(data, "x.png")


def test_missing_and_directory(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_image(tmp_path / "none.jpg")
    with pytest.raises(InputError, match="is a directory"):
        read_image(tmp_path)
