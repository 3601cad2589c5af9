"""The annotation pages in a real browser: Playwright driving Debian's headless Chromium.

Skipped (with the reason) when playwright or chromium is missing; .ci/run installs both. Nothing is
downloaded: the browser is /usr/bin/chromium (or $NUMBERPLATE_CHROMIUM), never `playwright install`.
Set $NUMBERPLATE_SCREENSHOTS to a folder to keep the README screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from numberplate.web.demo import make_demo_ocr, make_demo_via  # noqa: E402

CHROMIUM = os.environ.get("NUMBERPLATE_CHROMIUM", "/usr/bin/chromium")
# Headless, and no calls home: this machine has no network but the package registries.
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1200, "height": 700}


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; .ci/run installs it)")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    manager = sync_playwright().start()
    try:
        instance = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001
        manager.stop()
        pytest.skip(f"chromium at {CHROMIUM} does not start under playwright: {exc}")
    yield instance
    instance.close()
    manager.stop()


@contextmanager
def serve(root: Path, **options):
    """The annotation app for ``root`` on a free localhost port, in a thread; yields its URL."""
    import uvicorn

    from numberplate.web.app import AnnotateConfig, create_app

    app = create_app(AnnotateConfig(root=root, user="browser-test", **options))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def open_page(browser, url: str):
    page = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    page.errors = errors
    return page


def wait_saved(page, name: str) -> None:
    page.wait_for_function("name => document.getElementById('message').textContent.startsWith('Saved ' + name)",
                           arg=name, timeout=10000)


def ann(root: Path, name: str) -> dict:
    return json.loads((root / "train" / "ann" / f"{name}.json").read_text())


def test_moderate_three_crops_by_keyboard_alone(browser, tmp_path):
    root = tmp_path / "crops"
    items = make_demo_ocr(root, count=6)
    truth = {i.name: i for i in items}
    with serve(root) as url:
        page = open_page(browser, url)
        # The queue starts with the least confident reading.
        assert page.text_content("#m-name") == min(items, key=lambda i: i.confidence).name
        region = page.evaluate("quickRegions()[0]")
        done = []
        for step in range(3):
            name = page.text_content("#m-name")
            assert page.input_value("#text") == truth[name].predicted  # pre-filled with the model's reading
            if step == 2:
                page.keyboard.press("Alt+2")        # two lines
                page.keyboard.press("Alt+Shift+1")  # the first quick region
            page.keyboard.type(truth[name].truth.lower())  # the field is selected: typing replaces it
            page.keyboard.press("Enter")
            wait_saved(page, name)
            done.append(name)
        assert page.text_content("#m-name") not in done  # moved on
        for number, name in enumerate(done):
            saved = ann(root, name)
            assert saved["description"] == truth[name].truth
            assert saved["moderation"]["isModerated"] == 1 and saved["moderation"]["moderatedBy"] == "browser-test"
            assert saved["predicted"]["text"] == truth[name].predicted
            assert saved["count_lines"] == (2 if number == 2 else 1)
        assert ann(root, done[2])["region"] == region
        assert "1 saved" not in page.text_content("#progress-text") and "3 / 6 done" in page.text_content("#progress-text")
        # Undo the last save: the file is back as it was, and the page shows that item again.
        page.keyboard.press("Alt+Z")
        page.wait_for_function("document.getElementById('message').textContent.startsWith('Undone')")
        restored = ann(root, done[2])
        assert restored["description"] == "" and restored["moderation"]["isModerated"] == 0
        assert page.text_content("#m-name") == done[2]
        assert not page.errors


def test_a_crop_without_a_stored_reading_is_read_live(browser, tmp_path):
    root = tmp_path / "crops"
    (item,) = make_demo_ocr(root, count=1)
    path = root / "train" / "ann" / f"{item.name}.json"
    stored = json.loads(path.read_text())
    del stored["predicted"]
    path.write_text(json.dumps(stored))
    with serve(root) as url:
        page = open_page(browser, url)
        page.wait_for_function("document.getElementById('text').value !== ''")  # the model's live reading
        live = page.input_value("#text")
        page.keyboard.press("Alt+L")  # lines 1 -> 2
        page.keyboard.type(item.truth)  # replaces the pre-fill, never appends to it
        page.keyboard.press("Enter")
        wait_saved(page, item.name)
    saved = ann(root, item.name)
    assert saved["description"] == item.truth and saved["count_lines"] == 2
    assert saved["predicted"]["text"] == live and saved["predicted"]["engine"] == "numberplate"


def test_keyboard_throughput(browser, tmp_path, capsys):
    """Time per crop with the keyboard alone, waiting on nothing but the page itself."""
    root = tmp_path / "crops"
    items = make_demo_ocr(root, count=24, wrong_every=4)
    truth = {i.name: i.truth for i in items}
    with serve(root) as url:
        page = open_page(browser, url)
        started = time.perf_counter()
        for _ in items:
            name = page.text_content("#m-name")
            if page.input_value("#text") != truth[name]:
                page.keyboard.type(truth[name])
            page.keyboard.press("Enter")
            wait_saved(page, name)
        seconds = time.perf_counter() - started
    per_minute = len(items) / seconds * 60
    with capsys.disabled():
        print(f"\nmoderation by keyboard: {len(items)} pre-filled crops in {seconds:.2f} s "
              f"= {per_minute:.0f} crops/minute (page and server time only)")
    assert per_minute >= 20
    assert all(ann(root, name)["description"] == text and ann(root, name)["moderation"]["isModerated"] == 1
               for name, text in truth.items())


def test_two_tabs_on_one_crop_get_a_conflict_not_a_lost_label(browser, tmp_path):
    root = tmp_path / "crops"
    make_demo_ocr(root, count=4)
    with serve(root) as url:
        first, second = open_page(browser, url), open_page(browser, url)
        name = first.text_content("#m-name")
        assert second.text_content("#m-name") == name
        first.keyboard.type("AAA111")
        first.keyboard.press("Enter")
        wait_saved(first, name)
        second.keyboard.type("BBB222")
        second.keyboard.press("Enter")
        second.wait_for_selector("#message.conflict")
        assert "changed elsewhere" in second.text_content("#message")
        assert "AAA111" in second.text_content("#message")
        assert ann(root, name)["description"] == "AAA111"  # the first tab's label is not lost
        assert second.input_value("#text") == "BBB222"      # nor is the second tab's typing
        assert second.text_content("#m-name") == name       # and the page did not move on
        second.keyboard.press("Escape")  # take theirs
        assert second.input_value("#text") == "AAA111"
        # Knowing about the other save, the second person may still overwrite it deliberately.
        second.keyboard.type("BBB222")
        second.keyboard.press("Enter")
        wait_saved(second, name)
        assert ann(root, name)["description"] == "BBB222"


def test_drag_a_corner_then_annotate_a_new_photo_from_the_detector(browser, tmp_path):
    root = tmp_path / "photos"
    photos = make_demo_via(root, photos=2, labelled=1)
    with serve(root) as url:
        page = open_page(browser, url)
        page.wait_for_function("document.body.dataset.shown === 'root/street00.jpg'")
        page.keyboard.press("z")  # zoom to the plate
        scale = page.evaluate("D.scale")
        assert scale > 1.5
        before = page.evaluate("D.plates[0].corners")
        box = page.locator('circle.handle[data-plate="0"][data-corner="0"]').bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 30, y + 15, steps=5)
        page.mouse.up()
        assert "unsaved" in page.text_content("#dirty")
        page.keyboard.press("Control+s")
        wait_saved(page, "street00.jpg")
        data = json.loads((root / "via_region_data.json").read_text())
        entry = next(e for e in data.values() if e["filename"] == "street00.jpg")
        shape = entry["regions"][0]["shape_attributes"]
        corners = list(zip(shape["all_points_x"], shape["all_points_y"]))
        assert corners[0] == pytest.approx((before[0][0] + 30 / scale, before[0][1] + 15 / scale), abs=0.6)
        assert corners[1:] == [pytest.approx(tuple(c), abs=0.01) for c in before[1:]]
        assert entry["regions"][0]["region_attributes"]["np"] == photos[0][1]
        # The next photo is not in the VIA file: the detector pre-annotates it, the person types the text.
        page.keyboard.press("PageDown")
        page.wait_for_function("document.body.dataset.shown === 'root/street01.jpg'")
        page.wait_for_selector("svg .plate.proposed")
        page.locator("input.ptext").first.focus()
        page.keyboard.press("Control+a")
        page.keyboard.type(photos[1][1])
        page.keyboard.press("Enter")
        wait_saved(page, "street01.jpg")
        data = json.loads((root / "via_region_data.json").read_text())
        entry = next(e for e in data.values() if e["filename"] == "street01.jpg")
        (region,) = entry["regions"]
        assert region["region_attributes"]["np"] == photos[1][1]
        shape = region["shape_attributes"]
        from numberplate.stages.detect import box_iou

        found = (min(shape["all_points_x"]), min(shape["all_points_y"]), max(shape["all_points_x"]),
                 max(shape["all_points_y"]))
        xs, ys = [p[0] for p in photos[1][2]], [p[1] for p in photos[1][2]]
        # The detector's plate is the drawn one (on this cartoon plate its corners leave out the blank ends).
        assert min(xs) < (found[0] + found[2]) / 2 < max(xs) and min(ys) < (found[1] + found[3]) / 2 < max(ys)
        assert box_iou(found, (min(xs), min(ys), max(xs), max(ys))) >= 0.4
        assert not page.errors


def test_screenshots_of_both_screens(browser, tmp_path):
    keep = os.environ.get("NUMBERPLATE_SCREENSHOTS")
    make_demo_ocr(tmp_path / "crops", count=14, seed=7)
    make_demo_via(tmp_path / "photos", photos=3, labelled=1, seed=3)
    shots = {}
    with serve(tmp_path / "crops") as url:
        page = open_page(browser, url)
        shots["annotate-moderation.png"] = page.screenshot()
    with serve(tmp_path / "photos") as url:
        page = open_page(browser, url)
        page.keyboard.press("PageDown")
        page.wait_for_selector("svg .plate.proposed")
        shots["annotate-detection.png"] = page.screenshot()
    for name, png in shots.items():
        assert png[:4] == b"\x89PNG" and len(png) < 400_000
        (tmp_path / name).write_bytes(png)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            small_png(tmp_path / name, Path(keep) / name)


def small_png(src: Path, dst: Path) -> None:
    """Copy a screenshot, in 256 colours when Pillow is there (a README picture, a third of the bytes)."""
    try:
        from PIL import Image
    except ImportError:
        shutil.copy(src, dst)
        return
    with Image.open(src) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)


def test_a_server_killed_mid_save_keeps_the_label_in_the_page_and_the_file_whole(browser, tmp_path):
    from test_web_crash import ServerProcess, annotations

    root = tmp_path / "crops"
    make_demo_ocr(root, count=3)
    before = annotations(root)
    server = ServerProcess(root, "--write-delay", "5", "--engine", "none")
    try:
        page = open_page(browser, server.url + "/")
        name = page.text_content("#m-name")
        page.keyboard.type("KILL123")
        page.keyboard.press("Enter")
        deadline = time.monotonic() + 20
        while not list((root / "train" / "ann").glob(".*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()
        page.wait_for_selector("#message.error", timeout=10000)
        assert "Not saved" in page.text_content("#message")
        assert page.input_value("#text") == "KILL123" and page.text_content("#m-name") == name
    finally:
        server.kill()
    assert annotations(root) == before
