"""claimcheck: OCR pre-screening of cashback claims.

The stage list is in pipeline/screen.py (`STAGES`); `screen_claim` runs it.
"""

__version__ = "0.1.0"
