"""The annotation tool's server: items, saves, conflicts, undo, path safety, limits, read-only (no browser)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from numberplate.web.app import AnnotateConfig, create_app  # noqa: E402
from numberplate.web.demo import make_demo_ocr, make_demo_via  # noqa: E402
from numberplate.web.store import OcrStore, open_store  # noqa: E402

JSON = {"Content-Type": "application/json"}


def client_for(root: Path, **options) -> TestClient:
    config = AnnotateConfig(root=root, user="tester", allowed_hosts=("testserver",), **options)
    return TestClient(create_app(config))


@pytest.fixture
def ocr_set(tmp_path):
    items = make_demo_ocr(tmp_path / "crops", count=6)
    return tmp_path / "crops", items


@pytest.fixture
def via_set(tmp_path):
    photos = make_demo_via(tmp_path / "photos", photos=2, labelled=1)
    return tmp_path / "photos", photos


def ann_of(root: Path, item_id: str) -> dict:
    split, name = item_id.split("/")
    return json.loads((root / split / "ann" / f"{name}.json").read_text())


def test_the_folder_picks_the_screen(ocr_set, via_set, tmp_path):
    assert open_store(ocr_set[0]).mode == "moderation"
    assert open_store(via_set[0]).mode == "detection"
    client = client_for(ocr_set[0])
    assert "moderate.js" in client.get("/").text
    assert "detect.js" in client_for(via_set[0]).get("/").text
    (tmp_path / "empty").mkdir()
    with pytest.raises(Exception, match="not a dataset the annotation tool knows"):
        open_store(tmp_path / "empty")
    yolo = tmp_path / "yolo"
    (yolo / "images").mkdir(parents=True)
    (yolo / "labels").mkdir()
    (yolo / "data.yaml").write_text("names: [numberplate]\nkpt_shape: [4, 3]\ntrain: images\n")
    with pytest.raises(Exception, match="convert it with"):
        open_store(yolo)


def test_save_marks_moderated_and_keeps_every_other_field(ocr_set):
    root, items = ocr_set
    first = items[0]
    path = root / "train" / "ann" / f"{first.name}.json"
    ann = json.loads(path.read_text())
    ann["size"] = {"width": 10, "height": 5}
    path.write_text(json.dumps(ann))
    client = client_for(root)
    listed = {i["id"]: i for i in client.get("/api/ocr/items").json()["items"]}
    assert len(listed) == 6 and not listed[first.id]["moderated"]
    assert listed[first.id]["predicted"]["text"] == first.predicted
    item = client.get(f"/api/ocr/items/{first.id}").json()
    assert client.get(f"/api/ocr/image/{first.id}").content[:4] == b"\x89PNG"
    r = client.put(f"/api/ocr/items/{first.id}", json={"revision": item["revision"], "text": " ab 12 c ", "region": "UA",
                                                       "lines": 2, "state": "readable"})
    assert r.status_code == 200, r.text
    saved = ann_of(root, first.id)
    assert saved["description"] == "AB12C" and saved["region"] == "ua" and saved["count_lines"] == 2
    assert saved["moderation"]["isModerated"] == 1 and saved["moderation"]["moderatedBy"] == "tester"
    assert saved["predicted"]["text"] == first.predicted  # the model's guess stays beside the label
    assert saved["size"] == {"width": 10, "height": 5} and saved["source"]
    assert r.json()["revision"] != item["revision"] and r.json()["moderated"]


def test_a_stale_save_is_refused_and_nothing_is_lost(ocr_set):
    root, items = ocr_set
    client = client_for(root)
    item = client.get(f"/api/ocr/items/{items[1].id}").json()
    body = {"revision": item["revision"], "text": "FIRST1", "region": "", "lines": 1, "state": "readable"}
    assert client.put(f"/api/ocr/items/{items[1].id}", json=body).status_code == 200
    second = client.put(f"/api/ocr/items/{items[1].id}", json={**body, "text": "SECOND2"})
    assert second.status_code == 409
    assert "changed elsewhere" in second.json()["error"]
    assert second.json()["current"]["text"] == "FIRST1"
    assert ann_of(root, items[1].id)["description"] == "FIRST1"
    # Saving again on the revision the conflict reported is a deliberate overwrite.
    third = client.put(f"/api/ocr/items/{items[1].id}", json={**body, "text": "SECOND2",
                                                              "revision": second.json()["current"]["revision"]})
    assert third.status_code == 200 and ann_of(root, items[1].id)["description"] == "SECOND2"


def test_undo_restores_the_annotation_as_it_was(ocr_set):
    root, items = ocr_set
    client = client_for(root)
    before = client.get(f"/api/ocr/items/{items[2].id}").json()
    saved = client.put(f"/api/ocr/items/{items[2].id}", json={"revision": before["revision"], "text": "XY123",
                                                              "lines": 1, "state": "readable"}).json()
    undone = client.put(f"/api/ocr/items/{items[2].id}", json={"revision": saved["revision"], "restore": before["ann"]})
    assert undone.status_code == 200
    assert ann_of(root, items[2].id) == before["ann"]
    assert not undone.json()["moderated"]
    # An undo based on a revision that is gone is refused too.
    again = client.put(f"/api/ocr/items/{items[2].id}", json={"revision": saved["revision"], "restore": before["ann"]})
    assert again.status_code == 409


@pytest.mark.parametrize("body, message", [
    ({"text": "A" * 40}, "longer than"),
    ({"lines": 5}, "lines must be"),
    ({"state": "blurry"}, "state must be"),
    ({"region": "../x"}, "region must be"),
    ({"revision": None}, "revision"),
])
def test_bad_values_get_a_clear_400(ocr_set, body, message):
    root, items = ocr_set
    client = client_for(root)
    item = client.get(f"/api/ocr/items/{items[0].id}").json()
    payload = {"revision": item["revision"], "text": "AB1", "lines": 1, "state": "readable", **body}
    r = client.put(f"/api/ocr/items/{items[0].id}", json=payload)
    assert r.status_code == 400 and message in r.json()["error"]
    assert ann_of(root, items[0].id) == item["ann"]


def test_paths_cannot_leave_the_dataset(ocr_set, tmp_path):
    root, items = ocr_set
    secret = tmp_path / "secret.json"
    secret.write_text('{"description": "SECRET"}')
    (root / "train" / "ann" / "link.json").symlink_to(secret)
    (root / "train" / "img" / "link.png").symlink_to(root / "train" / "img" / f"{items[0].name}.png")
    client = client_for(root)
    for url in ("/api/ocr/items/train/../../secret", "/api/ocr/items/train/%2e%2e/x", "/api/ocr/items/..%2Fsecret",
                "/api/ocr/image//etc/passwd", "/api/ocr/items/train/link", "/api/ocr/image/train/link",
                "/api/ocr/items/train%2F..%2F..%2Fsecret", "/api/ocr/image/train/..%2F..%2Fsecret"):
        r = client.get(url)
        assert r.status_code in (403, 404), url
        assert "SECRET" not in r.text
    r = client.put("/api/ocr/items/train/link", json={"revision": "x", "text": "A", "lines": 1, "state": "readable"})
    assert r.status_code in (403, 404)
    assert json.loads(secret.read_text()) == {"description": "SECRET"}
    listed = {i["id"]: i for i in client.get("/api/ocr/items").json()["items"]}
    assert "outside the dataset" in listed["train/link"]["error"]  # shown as broken, never read


def test_read_only_refuses_every_write(ocr_set, via_set):
    root, items = ocr_set
    client = client_for(root, read_only=True)
    item = client.get(f"/api/ocr/items/{items[0].id}").json()
    r = client.put(f"/api/ocr/items/{items[0].id}", json={"revision": item["revision"], "text": "AB1"})
    assert r.status_code == 403 and "read-only" in r.json()["detail"]
    assert ann_of(root, items[0].id) == item["ann"]
    assert client.get("/api/info").json()["read_only"] is True
    via_client = client_for(via_set[0], read_only=True)
    entry = via_client.get("/api/via/items/root/street00.jpg").json()
    assert via_client.put("/api/via/items/root/street00.jpg",
                          json={"revision": entry["revision"], "plates": []}).status_code == 403


def test_size_host_origin_and_content_type_limits(ocr_set):
    root, items = ocr_set
    client = client_for(root, max_request_bytes=2000)
    item = client.get(f"/api/ocr/items/{items[0].id}").json()
    big = {"revision": item["revision"], "text": "AB1", "lines": 1, "state": "readable", "pad": "x" * 5000}
    assert client.put(f"/api/ocr/items/{items[0].id}", json=big).status_code == 413

    def chunks():  # no Content-Length: counted as it streams
        yield b'{"revision": "x", "pad": "'
        yield from (b"x" * 500 for _ in range(10))
        yield b'"}'

    streamed = client.put(f"/api/ocr/items/{items[0].id}", content=chunks(), headers=JSON)
    assert streamed.status_code == 413
    assert client.get("/api/info", headers={"host": "evil.example"}).status_code == 400
    ok = {"revision": item["revision"], "text": "AB1", "lines": 1, "state": "readable"}
    r = client.put(f"/api/ocr/items/{items[0].id}", json=ok, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    r = client.put(f"/api/ocr/items/{items[0].id}", content=json.dumps(ok), headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert ann_of(root, items[0].id) == item["ann"]


def test_concurrent_saves_on_one_item_let_exactly_one_win(ocr_set):
    root, items = ocr_set
    store = OcrStore(root, user="a")
    revision = store.item(items[3].id)["revision"]
    results: list[str] = []

    def attempt(n: int) -> None:
        try:
            store.save(items[3].id, revision, f"TAB{n}", "", 1, "readable")
            results.append(f"TAB{n}")
        except Exception as exc:  # noqa: BLE001
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r.startswith("TAB")]
    assert len(winners) == 1 and results.count("StaleRevision") == 7
    assert ann_of(root, items[3].id)["description"] == winners[0]
    assert not [p for p in (root / "train" / "ann").iterdir() if p.suffix == ".tmp"]


def test_live_reading_of_a_crop(ocr_set):
    root, items = ocr_set
    r = client_for(root).post(f"/api/ocr/read/{items[0].id}", json={"engine": "numberplate"})
    assert r.status_code == 200
    assert r.json()["engine"] == "numberplate" and isinstance(r.json()["text"], str)
    assert 0 <= r.json()["confidence"] <= 1


def test_via_items_save_corners_and_new_photos(via_set):
    root, photos = via_set
    client = client_for(root)
    listed = {i["id"]: i for i in client.get("/api/via/items").json()["items"]}
    assert listed["root/street00.jpg"]["listed"] and not listed["root/street01.jpg"]["listed"]
    item = client.get("/api/via/items/root/street00.jpg").json()
    assert item["plates"][0]["text"] == photos[0][1]
    plate = item["plates"][0]
    moved = [[x + 5, y + 3] for x, y in plate["corners"]]
    # Corners in any order come back clockwise from the top-left.
    r = client.put("/api/via/items/root/street00.jpg",
                   json={"revision": item["revision"], "plates": [{**plate, "corners": moved[::-1], "text": "new 1"}]})
    assert r.status_code == 200, r.text
    data = json.loads((root / "via_region_data.json").read_text())
    (entry,) = data.values()
    shape = entry["regions"][0]["shape_attributes"]
    flat = [v for x, y in zip(shape["all_points_x"], shape["all_points_y"]) for v in (x, y)]
    assert flat == pytest.approx([v for point in moved for v in point], abs=0.01)
    assert entry["regions"][0]["region_attributes"]["np"] == "NEW1"
    stale = client.put("/api/via/items/root/street00.jpg", json={"revision": item["revision"], "plates": []})
    assert stale.status_code == 409 and len(stale.json()["current"]["plates"]) == 1
    # An unlisted photo: the detector proposes, saving adds its entry and leaves the other one alone.
    proposed = client.post("/api/via/detect/root/street01.jpg", json={}).json()["plates"]
    assert proposed, "the shipped detector finds the drawn plate"
    from numberplate.stages.detect import box_iou

    def box_of(points):
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return (min(xs), min(ys), max(xs), max(ys))

    # The proposal is the drawn plate: its centre on the plate, overlapping it well (on this cartoon plate
    # the shipped detectors' corners leave out the band and the plate's blank ends: IoU ~0.5-0.58).
    truth, found = box_of(photos[1][2]), box_of(proposed[0]["corners"])
    centre = ((found[0] + found[2]) / 2, (found[1] + found[3]) / 2)
    assert truth[0] < centre[0] < truth[2] and truth[1] < centre[1] < truth[3]
    assert box_iou(truth, [found])[0] >= 0.4
    new = client.put("/api/via/items/root/street01.jpg", json={"revision": "absent", "plates": proposed[:1]})
    assert new.status_code == 200 and new.json()["listed"]
    data = json.loads((root / "via_region_data.json").read_text())
    assert sorted(e["filename"] for e in data.values()) == ["street00.jpg", "street01.jpg"]
    assert client.put("/api/via/items/root/street01.jpg", json={"revision": "absent", "plates": []}).status_code == 409
    bad = client.put("/api/via/items/root/street00.jpg",
                     json={"revision": new.json()["revision"], "plates": [{"corners": [[1, 2]]}]})
    assert bad.status_code == 400 and "4 [x, y] pairs" in bad.json()["error"]
    assert client.get("/api/via/image/root/..%2F..%2Fetc%2Fpasswd").status_code in (403, 404)


def test_annotate_command_errors_are_clear(tmp_path, capsys):
    from numberplate.cli.main import main

    assert main(["annotate", str(tmp_path / "missing"), "--port", "0"]) == 2
    assert "dataset folder not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["annotate", "--help"])
    assert "Example: numberplate annotate" in capsys.readouterr().out
