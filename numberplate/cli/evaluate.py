"""``numberplate eval ocr|read|classify``: accuracy and speed of the recognizer (crops), the whole pipeline
(photos) or the plate classifier (crops)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np


def register(subparsers) -> argparse.ArgumentParser:
    from numberplate.cli.reader_args import add_reader_arguments

    parser = subparsers.add_parser(
        "eval", help="measure accuracy and speed on a labelled dataset",
        description="Evaluate a stage on a labelled dataset.",
        epilog="Example: numberplate eval ocr --data ../shared/data/ocr/br-crops --region br",
    )
    stages = parser.add_subparsers(dest="stage", metavar="STAGE", required=True)
    ocr = stages.add_parser("ocr", help="evaluate the text recognizer on Nomeroff-layout crops",
                            epilog="Example: numberplate eval ocr --data ../shared/data/ocr/br-crops --region br")
    ocr.add_argument("--data", nargs="+", required=True, metavar="DIR", help="dataset folders")
    ocr.add_argument("--split", default="test", help="split to evaluate (train, val, test; default test)")
    ocr.add_argument("--region", help="region code (default: the universal model, unrestricted); 'labelled' reads "
                                      "each crop as the country in its own annotation (sets of several countries)")
    ocr.add_argument("--model", help="shipped model name or .onnx path")
    ocr.add_argument("--threads", type=int)
    ocr.add_argument("--max-lines", type=int, default=3, help="only plates with at most this many lines")
    ocr.add_argument("--show-errors", type=int, default=0, metavar="N", help="print up to N misread plates")
    ocr.add_argument("--json", action="store_true", help="print the metrics as one JSON object per set")
    ocr.set_defaults(func=run_ocr)

    read = stages.add_parser(
        "read", help="evaluate the whole pipeline on photos labelled in VIA (or YOLO/COCO)",
        description="End-to-end plate accuracy (a labelled plate counts when a plate found in the same photo "
                    "has exactly its text), detection recall and precision at IoU 0.5, and time per stage. "
                    "Predictions matching no label are counted apart: photos often hold unlabelled plates.",
        epilog="Example: numberplate eval read --data ../shared/data/endtoend/br --region br --report br.html")
    read.add_argument("--data", nargs="+", required=True, metavar="DIR", help="labelled photo sets")
    add_reader_arguments(read, region_help="force this region for every plate (default: the classifier decides)")
    read.add_argument("--report", type=Path, help="write an HTML page with thumbnails of every failure")
    read.add_argument("--show-errors", type=int, default=0, metavar="N",
                      help="print up to N photos with a plate not found or not read, and what went wrong")
    read.add_argument("--json", action="store_true", help="print the metrics as one JSON object per set")
    read.set_defaults(func=run_read)

    classify = stages.add_parser(
        "classify", help="evaluate the plate classifier (type, lines, state) on Nomeroff-layout crops",
        description="Accuracy per head, country accuracy (plate types mapped to their country) and a confusion "
                    "matrix per head. A crop labelled with a country counts as right when the predicted type "
                    "belongs to it; the region is judged on readable plates and garbage (region 'unknown').",
        epilog="Example: numberplate eval classify --data ../shared/data/ocr/eu-crops --split test")
    classify.add_argument("--data", nargs="+", required=True, metavar="DIR", help="dataset folders")
    classify.add_argument("--split", default="test", help="split to evaluate (train, val, test; default test)")
    classify.add_argument("--model", default=None, help="shipped model name or .onnx path (default: the shipped one)")
    classify.add_argument("--threads", type=int)
    classify.add_argument("--format", choices=("text", "json"), default="text",
                          help="text tables (default) or one JSON object per set")
    classify.add_argument("--show-errors", type=int, default=0, metavar="N", help="print up to N misclassified crops")
    classify.set_defaults(func=run_classify)
    return parser


def evaluate_ocr(recognizer_of, records) -> dict:
    """Read every record's crop with ``recognizer_of(record)`` (a :class:`Recognizer`; records read by the
    same one are batched together); return accuracy metrics, timing and the misreads."""
    from numberplate.data.images import read_image
    from numberplate.errors import InputError
    from numberplate.regions import to_internal
    from numberplate.train.metrics import char_error_rate, exact_accuracy, merge_o0

    images, lines, truths, names, readers, unreadable = [], [], [], [], [], []
    for record in records:
        try:
            images.append(read_image(record.image_path))
        except InputError as exc:
            unreadable.append(str(exc))
            continue
        lines.append(record.count_lines)  # the labelled line count: this measures reading, not classifying
        truths.append(to_internal(record.text))
        names.append(str(record.image_path))
        readers.append(recognizer_of(record))
    groups: dict[int, list[int]] = {}
    for index, reader in enumerate(readers):
        groups.setdefault(id(reader), []).append(index)
    preds = [""] * len(images)
    seconds = 0.0
    for members in groups.values():
        reader = readers[members[0]]
        reader.read_batch([images[i] for i in members[:8]], [lines[i] for i in members[:8]])  # warm-up: allocates
        started = time.perf_counter()
        readings = reader.read_batch([images[i] for i in members], [lines[i] for i in members])
        seconds += time.perf_counter() - started
        for index, reading in zip(members, readings):
            preds[index] = reading.text
    return {
        "plates": len(truths),
        "exact_accuracy": exact_accuracy(preds, truths),
        "exact_accuracy_o0_merged": exact_accuracy([merge_o0(p) for p in preds], [merge_o0(t) for t in truths]),
        "cer": char_error_rate(preds, truths),
        "plates_per_second": len(images) / seconds if seconds > 0 else 0.0,
        "unreadable": unreadable,
        "errors": [(n, t, p) for n, t, p in zip(names, truths, preds) if t != p],
    }


def _datasets(roots, split: str, keep, what: str):
    """Yield ``(root, records)`` per dataset folder, reporting on stderr a folder that is not a dataset,
    files that cannot be read and a split with nothing to evaluate; the last item is the exit status."""
    from numberplate.data.nomeroff import load_split, split_dirs
    from numberplate.errors import InputError

    status = 0
    for root in roots:
        try:
            split_dirs(root)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        errors: list[InputError] = []
        records = [r for r in load_split(root, split, errors) if keep(r)]
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        if not records:
            print(f"error: {root}: no {what} in split {split!r}", file=sys.stderr)
            status = 2
            continue
        yield root, records
    yield None, status


def run_ocr(args) -> int:
    from numberplate.regions import country_of
    from numberplate.stages.recognize import Recognizer, country_recognizer

    if args.region == "labelled":
        by_country: dict[str | None, Recognizer] = {}
        shared: dict = {}  # countries read by the same model share its session

        def recognizer_of(record):
            # Each crop as the reader reads a plate of its country (a country without a spec unrestricted).
            labelled = record.region and record.region.lower() != "unknown"
            country = country_of(record.region) if labelled else None
            if country not in by_country:
                by_country[country] = country_recognizer(country, model=args.model, threads=args.threads,
                                                         loaded_models=shared)
            return by_country[country]
    else:
        recognizer = Recognizer(region=args.region, model=args.model, threads=args.threads)

        def recognizer_of(record):
            return recognizer
    status = 0
    for root, records in _datasets(args.data, args.split, lambda r: r.text and r.state == "readable"
                                   and r.count_lines <= args.max_lines, "labelled plates"):
        if root is None:
            status = max(status, records)
            break
        result = evaluate_ocr(recognizer_of, records)
        # Multi-line plates are routed to another model than one-line ones: name every model that read.
        models = "+".join(sorted({Path(recognizer_of(r).model_name(r.count_lines)).stem for r in records}))
        for problem in result["unreadable"]:
            print(f"error: {problem}", file=sys.stderr)
        if args.json:
            print(json.dumps({"data": root, "split": args.split, "model": models,
                              "region": args.region, **{k: v for k, v in result.items() if k != "errors"}}))
        else:
            print(f"{root} [{args.split}] model {models} region {args.region or '-'}: "
                  f"{result['plates']} plates, exact {100 * result['exact_accuracy']:.2f}% "
                  f"(O/0 merged {100 * result['exact_accuracy_o0_merged']:.2f}%), "
                  f"CER {100 * result['cer']:.2f}%, {result['plates_per_second']:.0f} plates/s")
        for name, truth, pred in result["errors"][: args.show_errors]:
            print(f"  {name}: truth {truth} read {pred or '-'}")
    return status


def evaluate_classify(classifier, records) -> dict:
    """Classify every record's crop; return accuracy per head, confusion pairs per head, speed, failures."""
    from numberplate.data.images import read_image
    from numberplate.errors import InputError
    from numberplate.regions import country_of
    from numberplate.stages.classify import UNKNOWN, RegionLabels, is_exact, lines_target, score

    images, kept, unreadable = [], [], []
    for record in records:
        try:
            images.append(read_image(record.image_path))
            kept.append(record)
        except InputError as exc:
            unreadable.append(str(exc))
    classifier.classify_batch(images[:8])  # warm-up: first run allocates
    started = time.perf_counter()
    predictions = classifier.classify_batch(images)
    seconds = time.perf_counter() - started
    labels = RegionLabels(classifier.regions)
    truth = [(r.region, r.count_lines, r.state, is_exact(r)) for r in kept]
    metrics = score([(p.region, p.lines, p.state) for p in predictions], truth, labels)
    pairs: dict[str, list[tuple[str, str]]] = {"region": [], "lines": [], "state": []}
    errors = []
    for record, pred, (region, count_lines, state, exact) in zip(kept, predictions, truth):
        region = (region or "").lower()
        if state == "garbage":
            pairs["region"].append((UNKNOWN, pred.region))
        elif state == "readable" and region not in ("", UNKNOWN):
            # Shown at the label's level: a country label is matched by any type of that country.
            if exact:
                pairs["region"].append((region, pred.region))
            else:
                shown = pred.region if pred.region == UNKNOWN else country_of(pred.region)
                pairs["region"].append((region, shown))
        if lines_target(count_lines, state) >= 0:
            pairs["lines"].append((str(count_lines), str(pred.lines)))
        pairs["state"].append((state, pred.state))
        allowed = labels.allowed(region, state, exact)
        judged = state == "garbage" or (state == "readable" and region not in ("", UNKNOWN))
        wrong_region = judged and labels.index.get(pred.region) not in allowed
        if wrong_region or pred.state != state:
            errors.append((str(record.image_path), f"{region or '-'}/{state}", f"{pred.region}/{pred.state}"))
    return {"crops": len(kept), **{k: v for k, v in metrics.items() if not k.endswith("_n")},
            "crops_per_second": len(images) / seconds if seconds > 0 else 0.0,
            "unreadable": unreadable, "pairs": pairs, "errors": errors}


def confusion(pairs: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """``{truth: {prediction: count}}``."""
    table: dict[str, dict[str, int]] = {}
    for truth, pred in pairs:
        row = table.setdefault(truth, {})
        row[pred] = row.get(pred, 0) + 1
    return table


def format_confusion(title: str, pairs: list[tuple[str, str]], limit: int = 12) -> str:
    """A text confusion matrix (rows: truth, columns: prediction) with each row's count and accuracy.

    With more than ``limit`` classes a full matrix is too wide to read: each row then lists its count,
    accuracy and the predictions that were not the truth.
    """
    if not pairs:
        return f"{title}: no crops"
    table = confusion(pairs)
    rows = sorted(table)
    classes = sorted({t for t, _ in pairs} | {p for _, p in pairs})
    width = max(4, *(len(c) for c in classes))
    if len(classes) > limit:
        lines = [f"{title} (per true class: crops, accuracy, what else was predicted)"]
        for truth in rows:
            row = table[truth]
            total = sum(row.values())
            others = ", ".join(f"{p} {n}" for p, n in sorted(row.items(), key=lambda kv: -kv[1]) if p != truth)
            lines.append(f"{truth:>{width}} | {total:5d} {100 * row.get(truth, 0) / total:5.1f}% | {others}")
        return "\n".join(lines)
    head = " " * width + " |" + "".join(f" {c:>{width}}" for c in classes) + " |     n    acc"
    lines = [f"{title} (rows: truth, columns: prediction)", head, "-" * len(head)]
    for truth in rows:
        row = table[truth]
        cells = "".join(f" {(str(row[c]) if row.get(c) else '.'):>{width}}" for c in classes)
        total = sum(row.values())
        lines.append(f"{truth:>{width}} |{cells} | {total:5d} {100 * row.get(truth, 0) / total:5.1f}%")
    return "\n".join(lines)


def run_classify(args) -> int:
    from numberplate.stages.classify import DEFAULT_CLASSIFIER, Classifier

    classifier = Classifier(args.model or DEFAULT_CLASSIFIER, threads=args.threads)
    status = 0
    for root, records in _datasets(args.data, args.split, lambda r: True, "labelled crops"):
        if root is None:
            status = max(status, records)
            break
        result = evaluate_classify(classifier, records)
        for problem in result["unreadable"]:
            print(f"error: {problem}", file=sys.stderr)
        keys = ("region_acc", "country_acc", "lines_acc", "state_acc", "garbage_recall", "plates_as_garbage")
        if args.format == "json":
            print(json.dumps({"data": root, "split": args.split, "model": classifier.model.name,
                              "crops": result["crops"], **{k: result[k] for k in keys if k in result},
                              "crops_per_second": result["crops_per_second"],
                              "confusion": {k: confusion(v) for k, v in result["pairs"].items()},
                              "unreadable": result["unreadable"]}))
        else:
            shown = ", ".join(f"{k.replace('_acc', '').replace('_', ' ')} {100 * result[k]:.2f}%"
                              for k in keys if k in result)
            print(f"{root} [{args.split}] model {classifier.model.name}: {result['crops']} crops; {shown}; "
                  f"{result['crops_per_second']:.0f} crops/s")
            for head in ("region", "lines", "state"):
                print(format_confusion(f"{head}", result["pairs"][head]))
        for name, truth, pred in result["errors"][: args.show_errors]:
            print(f"  {name}: truth {truth} predicted {pred}")
    return status


def _plain(text: str) -> str:
    from numberplate.regions import to_internal

    return "".join(c for c in to_internal(text).upper() if c.isalnum())


def evaluate_read(reader, records) -> dict:
    """Run the pipeline on labelled photos; return end-to-end and detection metrics, timings, failures."""
    from numberplate.data.images import read_image
    from numberplate.errors import InputError
    from numberplate.regions import country_of
    from numberplate.train.detect import corner_error, match_detections

    labelled = texted = read_ok = found = predicted = unmatched = 0
    countries = Counter()  # (labelled country, classified country) over found plates with a country label
    timings: dict[str, float] = {}
    failures, unreadable = [], []
    corner_errors: list[float] = []
    photos = 0
    for record in records:
        try:
            image = read_image(record.image_path)
        except InputError as exc:
            unreadable.append(str(exc))
            continue
        result = reader.read_array(image, str(record.image_path))
        photos += 1
        for stage, seconds in result.timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
        truths = record.plates
        pairs = match_detections([p.detection.box for p in result.plates], [t.box for t in truths])
        labelled += len(truths)
        found += len(pairs)
        predicted += len(result.plates)
        unmatched += len(result.plates) - len(pairs)
        corner_errors.extend(corner_error(result.plates[p].detection.corners, truths[t].corners)
                             for p, t in pairs if truths[t].has_corners)
        texts_found = {_plain(p.text) for p in result.plates if p.text}
        problems = []
        matched_truths = {t for _, t in pairs}
        for p, t in pairs:
            plate_class = result.plates[p].classification
            if truths[t].region and plate_class is not None:
                said = plate_class.region if plate_class.state == "readable" else plate_class.state
                countries[country_of(truths[t].region), country_of(said)] += 1  # a type label (ua-2015) names its country
        for index, truth in enumerate(truths):
            if index not in matched_truths:
                problems.append(f"plate {_plain(truth.text) or index} not detected")
            if truth.text:
                texted += 1
                if _plain(truth.text) in texts_found:
                    read_ok += 1
                else:
                    problems.append(f"{_plain(truth.text)} not read (read: {', '.join(sorted(texts_found)) or '-'})")
        if problems:
            failures.append((record, result, image, problems))
    return {
        "photos": photos,
        "plates": labelled,
        "end_to_end_accuracy": read_ok / texted if texted else None,
        "detection_recall": found / labelled if labelled else None,
        "detection_precision": found / predicted if predicted else None,
        "unmatched_predictions": unmatched,
        # Median over found plates with true corners: worst corner's distance / the plate's width.
        "corner_error": float(np.median(corner_errors)) if corner_errors else None,
        # Of the found plates labelled with a country, those the classifier gave that country (readable).
        "country_accuracy": (sum(n for (truth, said), n in countries.items() if truth == said) / sum(countries.values())
                             if countries else None),
        "countries_given": {f"{truth}->{said}": n for (truth, said), n in countries.most_common()},
        "ms_per_photo": {k: 1000 * v / max(photos, 1) for k, v in timings.items()},
        "photos_per_second": photos / sum(timings.values()) if timings else 0.0,
        "unreadable": unreadable,
        "failures": failures,
    }


def write_report(path: Path, title: str, failures, limit: int = 300) -> None:
    """An HTML page with one thumbnail (plates drawn) per failed photo."""
    import base64
    import html

    import cv2

    from numberplate.data.atomic import atomic_write_bytes
    from numberplate.draw import draw_result

    rows = []
    for record, result, image, problems in failures[:limit]:
        drawn = draw_result(image, result)
        for truth in record.plates:  # labelled outlines in red
            quad = [[int(x), int(y)] for x, y in truth.corners]
            cv2.polylines(drawn, [np.array(quad, np.int32)], True, (255, 0, 0), 1)
        scale = 480 / max(drawn.shape[:2])
        if scale < 1:
            drawn = cv2.resize(drawn, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
        data = base64.b64encode(buf.tobytes()).decode()
        rows.append(f"<div class=item><img src='data:image/jpeg;base64,{data}'><p><b>"
                    f"{html.escape(record.image_path.name)}</b><br>{'<br>'.join(html.escape(p) for p in problems)}"
                    "</p></div>")
    page = (f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><style>body{{font:14px sans-serif}}"
            ".item{display:inline-block;vertical-align:top;width:490px;margin:4px}</style>"
            f"<h1>{html.escape(title)}</h1><p>{len(failures)} photos with a failure; green = found, "
            f"red = labelled.</p>{''.join(rows)}")
    atomic_write_bytes(path, page.encode("utf-8"))


def run_read(args) -> int:
    from numberplate.cli.reader_args import reader_options
    from numberplate.data.detection import read_detection
    from numberplate.errors import InputError

    reader = reader_options(args).build()
    status = 0
    all_failures = []
    for root in args.data:
        try:
            records = read_detection(root)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        if not records:
            print(f"error: {root}: no labelled photos", file=sys.stderr)
            status = 2
            continue
        result = evaluate_read(reader, records)
        for problem in result["unreadable"]:
            print(f"error: {problem}", file=sys.stderr)
        all_failures.extend(result["failures"])
        summary = {k: v for k, v in result.items() if k not in ("failures", "unreadable")}
        if args.json:
            print(json.dumps({"data": root, "region": args.region, **summary}))
        else:
            pct = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
            times = ", ".join(f"{k} {v:.1f} ms" for k, v in summary["ms_per_photo"].items())
            print(f"{root}: {summary['photos']} photos, {summary['plates']} plates: end-to-end "
                  f"{pct(summary['end_to_end_accuracy'])}, detection recall {pct(summary['detection_recall'])}, "
                  f"precision {pct(summary['detection_precision'])} ({summary['unmatched_predictions']} "
                  f"predictions match no label)"
                  + ("" if summary["corner_error"] is None else
                     f", corner error {100 * summary['corner_error']:.1f}% of the plate width")
                  + ("" if summary["country_accuracy"] is None else
                     f", country {pct(summary['country_accuracy'])} ("
                     + ", ".join(f"{k} {n}" for k, n in list(summary["countries_given"].items())[:4]) + ")")
                  + f"; per photo: {times}; {summary['photos_per_second']:.1f} photos/s")
            for record, _, _, problems in result["failures"][: args.show_errors]:
                print(f"  {record.image_path}: {'; '.join(problems)}")
    if args.report:
        write_report(args.report, "numberplate eval read: " + " ".join(args.data), all_failures)
        print(f"report: {args.report}", file=sys.stderr)
    return status
