"""Typed records passed between claimcheck's pipeline stages.

Every record is a frozen pydantic model, so a stage cannot change what an
earlier stage produced; it returns a new record instead.
"""

from models.campaign import Campaign, Reseller, Sku, ExcludedChannel
from models.claim import Claim, Claimant, BankDetails, DeclaredFields
from models.documents import Box, Word, Line, Page, DocumentText, FileInfo, DocumentRole
from models.fields import Evidence, FieldValue, ReceiptExtraction, LabelExtraction, DocumentKind
from models.verdict import Status, Reason, Verdict

__all__ = [
    "BankDetails", "Box", "Campaign", "Claim", "Claimant", "DeclaredFields", "DocumentKind",
    "DocumentRole", "DocumentText", "Evidence", "ExcludedChannel", "FieldValue", "FileInfo",
    "LabelExtraction", "Line", "Page", "ReceiptExtraction", "Reason", "Reseller", "Sku",
    "Status", "Verdict", "Word",
]
