"""Run-time settings, typed and read from CLAIMCHECK_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLAIMCHECK_", frozen=True)

    campaigns_dir: Path | None = None  # default: reference_data/campaigns in the checkout
    ocr_engine: str = "tesseract"  # primary engine for receipts
    second_engine: str | None = "rapidocr"  # read again with this engine when a required field is missing
    label_engine: str = "auto"
    keep_images_dir: Path | None = None
    # data team: record every engine reading (whole pages and key-line crops) here and replay it on
    # the next run, so that extraction can be retuned without re-running OCR. Keyed by the image's
    # pixels, the engine and its languages: a change of preprocessing misses the cache by itself.
    ocr_cache_dir: Path | None = None
    # the claims store: remembers serials and claimants across claims (SQLite under data/ by default;
    # CLAIMCHECK_DATABASE_URL=postgresql+psycopg://... for several workers)
    use_store: bool = True
    database_url: str | None = None
    migrate_store: bool = True  # run the migrations when a process first opens the store
    # confidence a field needs for the machine to act on it alone (approve, or reject)
    accept_confidence: float = 0.80
    # below this a field counts as not found
    min_confidence: float = 0.30
    # where a campaign refuses some kinds of document, an accepted kind recognised below this goes to review: the
    # classifier gives 0.45-0.5 to an untitled slip or a page read mostly with low confidence, 0.6 and up to a
    # printed title (its 0.6-0.8 band was right 80/80 times on generated tuning seed 11, so 0.80 would only add work)
    document_kind_accept_confidence: float = 0.55
    reseller_accept_score: float = 0.85
    reseller_reject_score: float = 0.55
    sku_accept_score: float = 0.80
    sku_reject_score: float = 0.45
    sku_margin: float = 0.08  # a winner this close to the runner-up is ambiguous
    serial_max_distance: int = 0  # edit distance allowed between two readings of a serial
    # receipt forensics (altered or re-submitted receipts): flags for review, never rejects
    forensics: bool = True
