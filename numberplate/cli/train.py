"""``numberplate train ocr``: train a recognizer on one or more Nomeroff-layout datasets."""

from __future__ import annotations

import argparse
from pathlib import Path

from numberplate.errors import ConfigError


def _parse_source(text: str):
    from numberplate.train.ocr import DataSource

    path, _, weight = text.rpartition(":")
    if path and weight.replace(".", "", 1).isdigit():
        return DataSource(path=path, weight=float(weight))
    return DataSource(path=text)


def _add_run_arguments(parser: argparse.ArgumentParser, data_help: str, config_help: str, default_name: str) -> None:
    """The options every ``train STAGE`` shares: data, recipe, run folder and loop overrides."""
    parser.add_argument("--data", nargs="+", metavar="DIR[:WEIGHT]", help=data_help)
    parser.add_argument("--config", type=Path, help=config_help)
    parser.add_argument("--out", type=Path, help="run folder (default: logs/<name>-<date>)")
    parser.add_argument("--name", help=f"model name (default: from the config, else {default_name!r})")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--samples-per-epoch", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--runs", type=int, help="train K times with seeds seed..seed+K-1, keep the best on test")
    parser.add_argument("--average", action="store_true", default=None,
                        help="with --runs K and --init-from: also average the K runs' weights and keep the "
                             "average if it is best on test")
    parser.add_argument("--device", help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    parser.add_argument("--init-from", help="checkpoint to fine-tune from")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "train", help="train a model (needs the [train] extra)",
        description="Train a model. Logs, metrics and the best checkpoint go to logs/<name>-<date>/.",
        epilog="Example: numberplate train ocr --config configs/ocr-universal.toml "
               "--data synth/ua:3 ../shared/data/ocr/br-crops --out runs/ocr-ua",
    )
    stages = parser.add_subparsers(dest="stage", metavar="STAGE", required=True)
    ocr = stages.add_parser("ocr", help="train the CRNN text recognizer",
                            epilog="DIR may end in :WEIGHT (e.g. synth/ua:3) to set its share of each epoch.")
    _add_run_arguments(ocr, data_help="datasets ({train,val,test}/{img,ann}); replace the config's [[data]] list",
                       config_help="TOML recipe (see configs/)", default_name="ocr")
    ocr.add_argument("--alphabet", help="latin, data, or a region code (e.g. ua)")
    ocr.set_defaults(func=run_ocr)

    det = stages.add_parser(
        "detector", help="train the plate detector (box + 4 corners)",
        description="Train the detector on VIA / YOLO-pose / COCO photo sets (synthetic scenes from "
                    "`numberplate synth scenes` give exact corners).",
        epilog="Example: numberplate train detector --config configs/detector.toml --out runs/detector. "
               "DIR may end in :WEIGHT.")
    _add_run_arguments(det, data_help="photo sets; replace the config's [[data]]",
                       config_help="TOML recipe (see configs/detector.toml)", default_name="detector")
    det.set_defaults(func=run_detector)

    cls = stages.add_parser(
        "classifier", help="train the plate classifier (type, text lines, state)",
        description="Train the classifier on Nomeroff-layout crop sets: synthetic ones from `numberplate synth "
                    "classify` (every type and state) and real ones labelled with their country.",
        epilog="Example: numberplate train classifier --config configs/classifier.toml --out runs/classifier. "
               "DIR may end in :WEIGHT.")
    _add_run_arguments(cls, data_help="datasets ({train,val,test}/{img,ann}); replace the config's [[data]] list",
                       config_help="TOML recipe (see configs/classifier.toml)", default_name="classifier")
    cls.set_defaults(func=run_classifier)

    ref = stages.add_parser(
        "refiner", help="train the corner refiner (the 4 corners of one plate, from a window around its box)",
        description="Train the corner refiner on photo sets whose plates have true corners (VIA polygons, "
                    "synthetic scenes from `numberplate synth scenes`); box-only plates are skipped.",
        epilog="Example: numberplate train refiner --config configs/refiner.toml --out runs/refiner. "
               "DIR may end in :WEIGHT.")
    _add_run_arguments(ref, data_help="photo sets; replace the config's [[data]]",
                       config_help="TOML recipe (see configs/refiner.toml)", default_name="refiner")
    ref.set_defaults(func=run_refiner)

    avg = stages.add_parser(
        "average", help="average the weights of fine-tunes of one model (a model soup)",
        description="Average the weights of checkpoints fine-tuned from one start (other seeds, other data mixes) "
                    "into one checkpoint: often better than each, at no cost at inference. Export it with "
                    "`numberplate export`. It has no validation metrics of its own: --measure scores it on its recipe's "
                    "val splits; measure it on your test sets too before shipping it.",
        epilog="Example: numberplate train average runs/ocr-a/best.pt runs/ocr-b/best.pt --out runs/ocr-soup.pt")
    avg.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT",
                     help="best.pt / last.pt files of the runs, or run folders (their best.pt)")
    avg.add_argument("--out", type=Path, required=True, help="the averaged checkpoint (.pt)")
    avg.add_argument("--measure", action="store_true",
                     help="measure the average on the val splits of the first checkpoint's recipe and keep the "
                          "metrics in it (the exported card states them); loads that recipe's data")
    avg.set_defaults(func=run_average)
    return parser


def _need_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ConfigError("training needs PyTorch: pip install torch==2.13.0 && pip install -e .[train]") from None


def _apply_overrides(config, args, fields: tuple[str, ...]) -> None:
    for attr in fields:
        value = getattr(args, attr, None)
        if value is not None:
            setattr(config, attr, value)
    for attr in ("epochs", "batch_size", "lr", "seed", "runs", "device", "threads", "average"):
        value = getattr(args, attr, None)
        if value is not None:
            setattr(config.loop, attr, value)


def _check_resume(args, run_dir) -> None:
    if args.resume and not (Path(run_dir) / "last.pt").is_file() and not list(Path(run_dir).glob("seed-*/last.pt")):
        raise ConfigError(f"{run_dir}: nothing to resume (no last.pt)")


def _report(result) -> None:
    print(f"best checkpoint: {result.best_checkpoint}")
    print(f"validation: {result.best_val}")
    print(f"test: {result.test}")


def _adopt_architecture(config, args, kind: str) -> None:
    """Without a --config, a run started --init-from a model takes that model's architecture (a shipped
    model's layers are not the defaults) and, for a recognizer given no --alphabet, its alphabet."""
    from numberplate.train.config import from_dict
    from numberplate.train.onnx_import import recipe_of

    if not args.init_from or args.config:
        return
    recipe = recipe_of(args.init_from, kind)
    if isinstance(recipe.get("model"), dict):
        config.model = from_dict(type(config.model), recipe["model"], f"{args.init_from}: recipe.model")
    if hasattr(config, "alphabet") and recipe.get("alphabet") and not getattr(args, "alphabet", None):
        config.alphabet = recipe["alphabet"]


def _run_task(args, config_type, source_type, task_type) -> int:
    """Load the recipe, apply the command-line overrides, train (with seeds and resume), report."""
    from numberplate.train.config import load_toml
    from numberplate.train.loop import default_run_dir, fit_runs

    config = load_toml(config_type, args.config) if args.config else config_type()
    if args.data:
        config.data = [source_type(path=s.path, weight=s.weight) for s in map(_parse_source, args.data)]
    _apply_overrides(config, args, ("name", "samples_per_epoch", "init_from", "alphabet"))
    _adopt_architecture(config, args, task_type.kind)
    run_dir = args.out or default_run_dir(config.name)
    _check_resume(args, run_dir)
    _report(fit_runs(task_type(config), config.loop, run_dir, resume=args.resume))
    return 0


def run_detector(args) -> int:
    _need_torch()
    from numberplate.train.detect import DetectionSource, DetectTask, DetectTrainConfig

    return _run_task(args, DetectTrainConfig, DetectionSource, DetectTask)


def run_refiner(args) -> int:
    _need_torch()
    from numberplate.train.refine import RefineSource, RefineTask, RefineTrainConfig

    return _run_task(args, RefineTrainConfig, RefineSource, RefineTask)


def run_classifier(args) -> int:
    _need_torch()
    from numberplate.train.classify import ClassifySource, ClassifyTask, ClassifyTrainConfig

    return _run_task(args, ClassifyTrainConfig, ClassifySource, ClassifyTask)


def run_ocr(args) -> int:
    _need_torch()
    from numberplate.train.ocr import DataSource, OcrTask, OcrTrainConfig

    return _run_task(args, OcrTrainConfig, DataSource, OcrTask)


def run_average(args) -> int:
    _need_torch()
    from numberplate.train.average import write_average

    averaged = write_average(args.checkpoints, args.out, measure_val=args.measure)
    print(f"wrote {args.out} (the mean of {len(args.checkpoints)} checkpoints)")
    if "val" in averaged:
        print(f"validation: {averaged['val']}")
    return 0
