"""The claims store: claims, documents, extracted fields, verdict history, the
registry of claimed serial numbers, receipt fingerprints and hashed claimant identities, in SQLite
(default, under the data folder) or PostgreSQL (CLAIMCHECK_DATABASE_URL).

    store = Store()            # or Store("postgresql+psycopg://...")
    store.migrate()
    reasons = store.history(claim, campaign)
    signals = store.find_duplicates(claim, campaign, fp)   # fp = pipeline.forensics.fingerprint.fingerprint(inp)
    stored = store.record(claim, campaign, verdict, files=files, serial=serial, fingerprint=fp)

Receipt fingerprints (hashes and local-feature codes, no image, no text) are
kept per claim so a later claim's receipt can be found again: the same file,
the same reseller + receipt number + date, or the same image re-saved,
scaled, cropped or photographed again (`duplicate.*` forensic signals).
"""

from pipeline.store.store import Store, StoreError, default_url

__all__ = ["Store", "StoreError", "default_url"]
