"""What the forensics stage produces: signals that a receipt was altered or
was already submitted, each with a score and the regions a handler should look at."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from models.base import Record
from models.documents import Box


class SignalFamily(StrEnum):
    METADATA = "metadata"    # the file: editor software, PDF revisions, fonts, text over an image
    DUPLICATE = "duplicate"  # the same receipt in another claim
    IMAGE = "image"          # pixels: compression history, copy-move, noise
    LAYOUT = "layout"        # glyphs in a decisive field that do not fit their line
    CONTENT = "content"      # what the receipt says does not add up


class Region(Record):
    """An area of the receipt to look at, in the same coordinates as OCR boxes
    (pixels of the uploaded image, or PDF points for a text-layer page)."""

    page: int = 1
    box: Box
    note: str = ""  # short, no personal data: "pasted digit", "copied from here"


class Signal(Record):
    """One forensic finding. `score` is the detector's strength in 0..1;
    `flagged` when it reaches the detector's `threshold`."""

    detector: str  # stable id, "<family>.<name>", e.g. "metadata.editor_software"
    family: SignalFamily
    score: float = Field(ge=0.0, le=1.0)
    threshold: float = Field(ge=0.0, le=1.0)
    message: str  # a plain sentence for a claim handler; no personal data
    field: str | None = None  # the receipt field it concerns, when one does
    regions: tuple[Region, ...] = ()
    other_claim: str | None = None  # duplicates: the earlier claim's id
    detail: dict[str, str | float | int | bool] = Field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        return self.score >= self.threshold
