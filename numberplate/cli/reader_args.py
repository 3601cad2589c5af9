"""The options that say how to build a Reader, declared once for ``read``, ``eval read`` and ``serve``."""

from __future__ import annotations

import argparse

from numberplate.batch import ReaderOptions

CONFIRM_THRESHOLD_HELP = ("weak detections scoring from this up to --threshold are kept only as readable plates whose "
                          "text fits their region's format and is read with some confidence, or is read very "
                          "confidently (default %(default)s; give the --threshold value to turn this off)")
NEXT_COUNTRIES_HELP = ("when a reading fits no plate format of the classified country, try the classifier's next "
                       "this-many countries read by the same OCR model and keep the first whose format it fits "
                       "(default %(default)s; 0 = never)")
REGION_HELP = ("force this region for every plate (ua, ru, kz, de, eu, us, br...): its OCR model and plate formats; "
               "default: the classifier decides per plate")


def add_reader_arguments(parser: argparse.ArgumentParser, region_help: str = REGION_HELP,
                         threads_help: str = "ONNX Runtime threads per reader (default: all cores)") -> None:
    """Add the model, threshold and thread options of :class:`ReaderOptions` to ``parser``."""
    group = parser.add_argument_group("models and thresholds")
    group.add_argument("--region", help=region_help)
    group.add_argument("--no-classifier", action="store_true",
                       help="do not classify plates (region/lines/state); read every plate as one line")
    group.add_argument("--detector", default=None, help="detector: shipped name or .onnx path")
    group.add_argument("--classifier", default=None, help="classifier: shipped name or .onnx path")
    group.add_argument("--no-refiner", action="store_true",
                       help="keep the detector's corners (do not re-locate them with the corner refiner)")
    group.add_argument("--refiner", default=None, help="corner refiner: shipped name or .onnx path")
    group.add_argument("--ocr-model", default=None, help="recognizer: shipped name or .onnx path")
    group.add_argument("--threshold", type=float, default=ReaderOptions.threshold,
                       help="minimum detection score (default %(default)s)")
    group.add_argument("--confirm-threshold", type=float, default=ReaderOptions.confirm_threshold,
                       help=CONFIRM_THRESHOLD_HELP)
    group.add_argument("--next-countries", type=int, default=ReaderOptions.next_countries, help=NEXT_COUNTRIES_HELP)
    group.add_argument("--no-turns", action="store_true",
                       help="never look at a photo turned: by default a photo without a sure plate is looked at "
                            "again turned 30 degrees either way, and a plate found more than 15 degrees off level "
                            "is found again in the photo turned level about it (phone photos of parked cars)")
    group.add_argument("--no-zoom-out", action="store_true",
                       help="never look at a photo set small: by default a photo that may be a plate crop (small, "
                            "wider than a camera frame, or with a plate across most of it) is looked at again set "
                            "small on a larger canvas, where the detector finds the plate whole")
    group.add_argument("--no-national-models", action="store_true",
                       help="never read a plate again by another country's own model: by default a reading that "
                            "fits no format of the classified country (nor of its next countries) is read again by "
                            "the Ukrainian, Russian and Kazakh models, and kept if one fits its country's formats "
                            "more confidently")
    group.add_argument("--max-side", type=int, help="detector input size, longer side in pixels (default: the "
                       "model's, 640); larger finds smaller plates, slower")
    group.add_argument("--threads", type=int, help=threads_help)


def reader_options(args: argparse.Namespace, threads: int | None = None) -> ReaderOptions:
    """The :class:`ReaderOptions` the parsed options describe (checked there: a bad value fails at once).
    ``threads`` stands in when no ``--threads`` was given."""
    return ReaderOptions(region=args.region, use_classifier=not args.no_classifier, classifier=args.classifier,
                         use_refiner=not args.no_refiner, refiner=args.refiner, detector=args.detector,
                         ocr_model=args.ocr_model, threshold=args.threshold,
                         confirm_threshold=args.confirm_threshold, next_countries=args.next_countries,
                         max_side=args.max_side, threads=args.threads if args.threads is not None else threads,
                         turn_photos=not args.no_turns, zoom_out=not args.no_zoom_out,
                         national_models=not args.no_national_models)
