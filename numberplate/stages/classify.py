"""Plate classification on rectified crops: plate type (region), number of text lines, and state
(readable, filled, empty, garbage), all from one small CNN through ONNX Runtime.

The same :func:`resize_crop` and :func:`to_input` feed training and inference, and the same :class:`RegionLabels`
turns dataset labels into targets for training and into the truth for evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from numberplate.data.images import read_image
from numberplate.errors import WeightsError
from numberplate.runtime import LoadedModel, load_model
from numberplate.stages.recognize import stretch_dim_crops
from numberplate.types import PlateClass

DEFAULT_CLASSIFIER = "classifier-plates"
UNKNOWN = "unknown"
BATCH_SIZE = 64
OUTPUTS = ("region", "lines", "state")
#: Countries after the first that a plate class lists (PlateClass.next_countries).
NEXT_COUNTRIES = 3
#: Spread (log scale) of a plate's width/height as its corners outline it around the width/height of its type:
#: perspective and corner error. The crop is stretched to the model's input, so the model cannot see it.
SHAPE_SIGMA = 0.15
#: The state head's garbage probability is weighed up by e ** GARBAGE_BIAS before the state is chosen: a crop
#: in doubt between "not a plate" and a blank or covered plate is called "not a plate" (none of them is read).
#: Shipped classifier, synthetic val / test, garbage found: 95.2 / 97.1% at 0, 97.4 / 99.0% at 1, 98.6 / 99.5%
#: at 2; state 97.9 / 98.3%, 98.0 / 98.2%, 97.8 / 97.9%. Plate-free photos with a text (of 940): 74, 65, 59. At 2
#: a real vanity plate of endtoend/us (NEILDMND) is called garbage, at 1 none: 1 it is.
GARBAGE_BIAS = 1.0
#: A dim crop's region is read from the crop stretched to this many grey levels: dim American plates at night
#: looked like grey Brazilian ones to the classifier. At 180 (the recognizers' min_contrast) 3 of 152 real
#: Brazilian val crops became American; at 120 none, and endtoend/us recall went 96.8 -> 97.3% (README).
REGION_MIN_CONTRAST = 120


# -- preprocessing (training and inference) -------------------------------------------------------------
def resize_crop(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """RGB crop (H x W x 3 uint8; grey H x W and RGBA are accepted) -> ``height x width x 3`` uint8.

    The crop is stretched, not letter-boxed: plates fill the input whatever their shape, and the
    squeezed look of characters is what tells a square plate from a long one.
    """
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = image.repeat(3, axis=2)
    elif image.shape[2] == 4:
        image = image[:, :, :3]
    shrinking = image.shape[0] > height or image.shape[1] > width
    resized = cv2.resize(np.ascontiguousarray(image), (width, height),
                         interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return resized.reshape(height, width, 3)


def to_input(batch: np.ndarray) -> np.ndarray:
    """N x H x W x 3 uint8 -> N x 3 x H x W float32 in [0, 1] (the model's input)."""
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


# -- labels (training targets and evaluation truth) ------------------------------------------------------
class RegionLabels:
    """Which region classes a labelled crop may be, given the classifier's class list.

    * garbage (not a plate) is ``unknown``;
    * a readable synthetic crop names its exact plate type (``ua-2004``);
    * a real crop names a country (``br``): any type of that country is right (``br``, ``br-red``,
      ``br-mercosur``), so country labels teach the country without mislabelling its types;
    * a filled or empty plate teaches nothing about the region: blank plates of many types look the same
      (``ua-2004`` and ``ua-1995``; EU plates differ only in their band's letters), and the reader skips
      such plates anyway;
    * no region label (``""`` or ``unknown`` on a plate) teaches nothing about the region either.
    """

    def __init__(self, classes: Sequence[str]):
        from numberplate.regions import country_of

        self.classes = list(classes)
        self.index = {c: i for i, c in enumerate(self.classes)}
        self.by_country: dict[str, tuple[int, ...]] = {}
        for i, code in enumerate(self.classes):
            if code != UNKNOWN:
                key = country_of(code)
                self.by_country[key] = self.by_country.get(key, ()) + (i,)

    def allowed(self, region: str, state: str, exact: bool) -> tuple[int, ...]:
        """Indices of the classes that count as right; () when the label says nothing about the region.

        Args:
            region: the record's region label.
            state: the record's state.
            exact: the label is an exact plate type (synthetic data), not a country.
        """
        from numberplate.regions import country_of

        if state == "garbage":
            return (self.index[UNKNOWN],) if UNKNOWN in self.index else ()
        region = (region or "").lower()
        if state != "readable" or region in ("", UNKNOWN):
            return ()
        if exact:
            return (self.index[region],) if region in self.index else ()
        return self.by_country.get(country_of(region), ())


def lines_target(count_lines: int, state: str) -> int:
    """Index of the lines class, or -1 where no text shows (filled, empty, garbage)."""
    return count_lines - 1 if state == "readable" and 1 <= count_lines <= 3 else -1


def is_exact(record) -> bool:
    """Whether a record's region is an exact plate type: our synthetic generators write those."""
    return bool(record.extra.get("synthetic"))


def score(predicted: Sequence[tuple[str, int, str]], truth: Sequence[tuple[str, int, str, bool]],
          labels: RegionLabels) -> dict[str, float]:
    """Accuracy per head, shared by training and ``numberplate eval classify``.

    Args:
        predicted: per crop, ``(region, lines, state)`` as the classifier says.
        truth: per crop, ``(region label, count_lines, state, exact)`` as the dataset says.
        labels: the classifier's region classes.

    Returns:
        ``region_acc`` (readable plates and garbage: the predicted class is one the label allows; a label
        the classifier has no class for counts as wrong), ``country_acc`` (readable plates: same country),
        ``lines_acc`` (readable plates), ``state_acc``, and for sets with garbage ``garbage_recall``, for
        sets with plates ``plates_as_garbage``; each with ``<key>_n``, the crops it counts. Keys without
        crops are left out.
    """
    from numberplate.regions import country_of

    counts: dict[str, list[int]] = {k: [0, 0] for k in ("region_acc", "country_acc", "lines_acc", "state_acc",
                                                        "garbage_recall", "plates_as_garbage")}

    def add(key: str, ok: bool) -> None:
        counts[key][0] += int(ok)
        counts[key][1] += 1

    for (p_region, p_lines, p_state), (t_region, t_lines, t_state, exact) in zip(predicted, truth, strict=True):
        t_region = (t_region or "").lower()
        labelled = t_state == "readable" and t_region not in ("", UNKNOWN)
        if labelled or t_state == "garbage":
            allowed = labels.allowed(t_region, t_state, exact)
            add("region_acc", p_region in labels.index and labels.index[p_region] in allowed)
        if labelled:
            add("country_acc", p_region != UNKNOWN and country_of(p_region) == country_of(t_region))
        if lines_target(t_lines, t_state) >= 0:
            add("lines_acc", p_lines == t_lines)
        add("state_acc", p_state == t_state)
        if t_state == "garbage":
            add("garbage_recall", p_state == "garbage")
        else:
            add("plates_as_garbage", p_state == "garbage")
    out: dict[str, float] = {}
    for key, (right, total) in counts.items():
        if total:
            out[key], out[f"{key}_n"] = right / total, float(total)
    return out


# -- inference -------------------------------------------------------------------------------------------
class Classifier:
    """Tells the plate type, the number of text lines and the state of plate crops.

    Args:
        model: shipped model name or ``.onnx`` path (with its ``.json`` card beside it).
        threads: ONNX Runtime intra-op threads (None = all cores).
        shape_sigma: with the plates' measured width/height (``aspects`` of :meth:`classify_batch`), weigh
            each type by how well its physical shape (its spec's size in mm) fits, a log-normal of this
            spread: a grey Brazilian plate (400 x 130 mm) and an American one (305 x 152 mm) look alike
            stretched to the input, not in the photo. None = ignore shapes.
        garbage_bias: the state's garbage probability is weighed up by ``e ** garbage_bias`` (then the
            state probabilities are normalised again); 0 = the model's own argmax. See GARBAGE_BIAS.
        region_min_contrast: the region of a dim crop (grey levels spanning fewer than this, see
            :func:`numberplate.stages.recognize.stretch_contrast`) is told from the crop stretched to this
            span; its lines and state from the crop as it is (a blank plate is dim by nature). 0 = off.
            See REGION_MIN_CONTRAST.

    Raises:
        WeightsError: the model is missing, corrupt, not a classifier, or its card lacks the class lists.

    Example:
        >>> Classifier()(crop)  # doctest: +SKIP
        PlateClass(region='ua-2015', region_confidence=0.99, lines=1, lines_confidence=1.0, state='readable', ...)
    """

    def __init__(self, model: str | Path = DEFAULT_CLASSIFIER, threads: int | None = None,
                 shape_sigma: float | None = SHAPE_SIGMA, garbage_bias: float = GARBAGE_BIAS,
                 region_min_contrast: int = REGION_MIN_CONTRAST):
        self.model: LoadedModel = load_model(model, task="classify", threads=threads)
        self.region_min_contrast = region_min_contrast
        self.shape_sigma = shape_sigma
        self.garbage_bias = garbage_bias
        card = self.model.card
        classes = card.get("classes")
        if not isinstance(classes, dict) or any(not classes.get(k) for k in OUTPUTS):
            raise WeightsError(f"{self.model.path.with_suffix('.json')}: classifier card lacks classes.region, "
                               "classes.lines or classes.state")
        self.regions: list[str] = list(classes["region"])
        self.lines: list[int] = [int(v) for v in classes["lines"]]
        self.states: list[str] = list(classes["state"])
        self.height, self.width = int(card["input"]["height"]), int(card["input"]["width"])
        names = [o.name for o in self.model.session.get_outputs()]
        if sorted(names) != sorted(OUTPUTS):
            raise WeightsError(f"{self.model.path}: outputs {names}, expected {list(OUTPUTS)}")
        self._order = [names.index(k) for k in OUTPUTS]

    def classify_probs(self, crops: Sequence[np.ndarray | str | Path]) -> dict[str, np.ndarray]:
        """Probabilities per head: ``region`` N x len(regions), ``lines`` N x 3, ``state`` N x 4."""
        arrays = [read_image(c) if isinstance(c, str | Path) else c for c in crops]
        parts: dict[str, list[np.ndarray]] = {k: [] for k in OUTPUTS}
        for start in range(0, len(arrays), BATCH_SIZE):
            batch = np.stack([resize_crop(a, self.height, self.width) for a in arrays[start:start + BATCH_SIZE]])
            outputs = self.model.run_all(to_input(batch))
            stretched, dim = stretch_dim_crops(batch, self.region_min_contrast)
            if len(dim):
                region = self._order[OUTPUTS.index("region")]
                outputs[region] = outputs[region].copy()
                outputs[region][dim] = self.model.run_all(to_input(stretched[dim]))[region]
            for key, index in zip(OUTPUTS, self._order):
                parts[key].append(outputs[index])
        return {k: np.concatenate(v) if v else np.zeros((0, n), np.float32)
                for (k, v), n in zip(parts.items(), (len(self.regions), len(self.lines), len(self.states)))}

    @cached_property
    def _log_aspects(self) -> np.ndarray:
        """Log width/height of each region class's plate type; NaN where unknown (no spec)."""
        from numberplate.regions import get_spec

        out = np.full(len(self.regions), np.nan)
        for index, region in enumerate(self.regions):
            try:
                width, height = get_spec(region).style.size_mm
            except KeyError:
                continue
            out[index] = np.log(width / height)
        return out

    def shape_weights(self, aspect: float) -> np.ndarray:
        """Per region class, how well a plate of measured width/height ``aspect`` fits its type's shape
        (1 = the best-fitting type; classes without a known shape count as fitting best)."""
        log_likelihood = -0.5 * ((np.log(aspect) - self._log_aspects) / self.shape_sigma) ** 2
        log_likelihood = np.where(np.isnan(log_likelihood), np.nanmax(log_likelihood), log_likelihood)
        return np.exp(log_likelihood - log_likelihood.max())

    def classify_batch(self, crops: Sequence[np.ndarray | str | Path],
                       aspects: Sequence[float | None] | None = None) -> list[PlateClass]:
        """Classify many crops (RGB arrays or file paths), batched through the model.

        ``aspects``: per crop, the plate's width/height in the photo (``rectify.plate_aspect``), or None
        where unknown; with ``shape_sigma`` the region probabilities are weighed by it (see the class).
        """
        from numberplate.regions import country_of

        probs = self.classify_probs(crops)
        if aspects is not None and self.shape_sigma is not None:
            if len(aspects) != len(probs["region"]):
                raise ValueError(f"{len(probs['region'])} crops but {len(aspects)} aspects")
            for row, aspect in zip(probs["region"], aspects):
                if aspect is not None and aspect > 0:
                    row *= self.shape_weights(aspect)
                    row /= max(float(row.sum()), 1e-12)
        if self.garbage_bias and "garbage" in self.states:
            states = probs["state"].copy()
            states[:, self.states.index("garbage")] *= np.exp(self.garbage_bias)
            probs["state"] = states / states.sum(axis=1, keepdims=True)
        # A country's types share its probability (br, br-red, br-mercosur are all "br").
        countries = [None if r == UNKNOWN else country_of(r) for r in self.regions]
        out = []
        for region_p, lines_p, state_p in zip(probs["region"], probs["lines"], probs["state"]):
            r, n, s = int(region_p.argmax()), int(lines_p.argmax()), int(state_p.argmax())
            by_country: dict[str, float] = {}
            for p, c in zip(region_p, countries):
                if c is not None:
                    by_country[c] = by_country.get(c, 0.0) + float(p)
            ranked = sorted(((c, p) for c, p in by_country.items() if c != countries[r]), key=lambda cp: -cp[1])
            out.append(PlateClass(self.regions[r], float(region_p[r]), self.lines[n], float(lines_p[n]),
                                  self.states[s], float(state_p[s]),
                                  by_country[countries[r]] if countries[r] is not None else float(region_p[r]),
                                  tuple(ranked[:NEXT_COUNTRIES])))
        return out

    def __call__(self, crop: np.ndarray | str | Path) -> PlateClass:
        return self.classify_batch([crop])[0]

