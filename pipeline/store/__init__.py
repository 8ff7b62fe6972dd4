"""The claims store: claims, documents, extracted fields, verdict history, the
registry of claimed serial numbers and hashed claimant identities, in SQLite
(default, under the data folder) or PostgreSQL (CLAIMCHECK_DATABASE_URL).

    store = Store()            # or Store("postgresql+psycopg://...")
    store.migrate()
    reasons = store.history(claim, campaign)
    stored = store.record(claim, campaign, verdict, files=files, serial=serial)
"""

from pipeline.store.store import Store, StoreError, default_url

__all__ = ["Store", "StoreError", "default_url"]
