"""Scoring the forensic signals: how many altered receipts are flagged, how
many genuine ones are (false alarms), per alteration type and per signal, and
ROC curves from each signal's score.

Pure functions over `TamperObs`, one per document, so every number can be
tested on hand-made observations. Duplicate signals (the same receipt in
another claim) are scored apart: an altered receipt is one that was edited,
whether or not it was also sent before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: score of the combined "any alteration signal" at which a receipt counts as flagged
OPERATING_POINT = 0.5
ROC_POINTS = tuple(round(i / 50, 2) for i in range(51))


@dataclass(frozen=True)
class TamperObs:
    """What is known about one document: was it altered, how, and what each detector scored."""

    altered: bool
    types: tuple[str, ...] = ()  # alteration types (generator / forgery labels); empty when genuine
    scores: dict[str, float] = field(default_factory=dict)  # detector id -> score (absent = 0)
    thresholds: dict[str, float] = field(default_factory=dict)
    families: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_signals(cls, altered: bool, types: Iterable[str], signals: Iterable[Mapping[str, Any]]) -> TamperObs:
        scores: dict[str, float] = {}
        thresholds: dict[str, float] = {}
        families: dict[str, str] = {}
        for s in signals:
            d = str(s.get("detector"))
            if float(s.get("score", 0.0)) >= scores.get(d, -1.0):
                scores[d] = float(s.get("score", 0.0))
                thresholds[d] = float(s.get("threshold", 1.0))
                families[d] = str(s.get("family", d.split(".")[0]))
        return cls(altered=altered, types=tuple(sorted(set(types))), scores=scores, thresholds=thresholds,
                   families=families)

    def flagged_by(self, detector: str) -> bool:
        return detector in self.scores and self.scores[detector] >= self.thresholds.get(detector, 1.0)

    @property
    def combined(self) -> float:
        """One score for "altered": each alteration signal scaled so its own threshold
        sits at OPERATING_POINT, the strongest taken. Duplicates do not count."""
        best = 0.0
        for d, s in self.scores.items():
            if self.families.get(d) == "duplicate":
                continue
            t = self.thresholds.get(d, 1.0)
            v = OPERATING_POINT * s / t if t > 0 else 1.0
            if s > t:  # above threshold: map (t, 1] onto (0.5, 1]
                v = OPERATING_POINT + (1 - OPERATING_POINT) * (s - t) / (1 - t) if t < 1 else 1.0
            best = max(best, min(1.0, v))
        return best

    @property
    def flagged(self) -> bool:
        return self.combined >= OPERATING_POINT


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def roc(pairs: Sequence[tuple[float, bool]], cutoffs: Sequence[float] = ROC_POINTS) -> dict[str, Any]:
    """(false-alarm rate, detection rate) at each cut-off, and the area under the curve
    (the chance that an altered document scores above a genuine one, ties counting half)."""
    pos = [s for s, a in pairs if a]
    neg = [s for s, a in pairs if not a]
    points = []
    for c in cutoffs:
        points.append({"cutoff": c, "tpr": _rate(sum(s >= c for s in pos), len(pos)),
                       "fpr": _rate(sum(s >= c for s in neg), len(neg))})
    auc = None
    if pos and neg:
        wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
        auc = round(wins / (len(pos) * len(neg)), 4)
    return {"positives": len(pos), "negatives": len(neg), "auc": auc, "points": points}


def tamper_summary(obs: Mapping[str, TamperObs]) -> dict[str, Any]:
    """Detection and false alarms overall, per alteration type and per signal, with ROC curves."""
    altered = {k: o for k, o in obs.items() if o.altered}
    genuine = {k: o for k, o in obs.items() if not o.altered}
    out: dict[str, Any] = {
        "documents": len(obs), "altered": len(altered), "genuine": len(genuine),
        "operating_point": OPERATING_POINT,
        "detected": sum(o.flagged for o in altered.values()),
        "false_alarms": sum(o.flagged for o in genuine.values()),
    }
    out["detection_rate"] = _rate(out["detected"], len(altered))
    out["false_alarm_rate"] = _rate(out["false_alarms"], len(genuine))
    types: dict[str, list[TamperObs]] = {}
    for o in altered.values():
        for t in o.types or ("unlabelled",):
            types.setdefault(t, []).append(o)
    out["per_type"] = {t: {"n": len(v), "detected": sum(o.flagged for o in v),
                           "detection_rate": _rate(sum(o.flagged for o in v), len(v)),
                           "by_signal": {d: sum(o.flagged_by(d) for o in v)
                                         for d in sorted({d for o in v for d in o.scores}) if any(o.flagged_by(d) for o in v)}}
                       for t, v in sorted(types.items())}
    detectors = sorted({d for o in obs.values() for d in o.scores})
    per_signal: dict[str, Any] = {}
    for d in detectors:
        hits = sum(o.flagged_by(d) for o in altered.values())
        fas = sum(o.flagged_by(d) for o in genuine.values())
        fam = next((o.families.get(d) for o in obs.values() if d in o.families), None)
        per_signal[d] = {"family": fam, "detected": hits, "detection_rate": _rate(hits, len(altered)),
                         "false_alarms": fas, "false_alarm_rate": _rate(fas, len(genuine)),
                         "roc": roc([(o.scores.get(d, 0.0), o.altered) for o in obs.values()])}
    out["per_signal"] = per_signal
    out["roc"] = roc([(o.combined, o.altered) for o in obs.values()])
    out["false_alarm_documents"] = sorted(k for k, o in genuine.items() if o.flagged)
    out["missed_documents"] = sorted(k for k, o in altered.items() if not o.flagged)
    return out
