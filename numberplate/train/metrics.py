"""Accuracy metrics shared by training, evaluation and benchmarks (pure Python, no torch)."""

from __future__ import annotations

from collections.abc import Sequence


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions) between two strings."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def exact_accuracy(predictions: Sequence[str], truths: Sequence[str]) -> float:
    """Share of plates read exactly right (0..1); 0 for an empty set."""
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} predictions for {len(truths)} truths")
    if not truths:
        return 0.0
    return sum(p == t for p, t in zip(predictions, truths)) / len(truths)


def char_error_rate(predictions: Sequence[str], truths: Sequence[str]) -> float:
    """Total edit distance over total ground-truth characters (0 = perfect; may exceed 1)."""
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} predictions for {len(truths)} truths")
    total = sum(len(t) for t in truths)
    if total == 0:
        return 0.0
    return sum(levenshtein(p, t) for p, t in zip(predictions, truths)) / total


def merge_o0(text: str) -> str:
    """Fold the O/0 confusion that human labels of public sets carry (see shared data notes)."""
    return text.replace("O", "0")
