"""Typed records passed between claimcheck's pipeline stages.

Every record is a frozen pydantic model, so a stage cannot change what an
earlier stage produced; it returns a new record instead.
"""

from models.campaign import Campaign, ExcludedChannel, Reseller, Sku
from models.claim import BankDetails, Claim, Claimant, DeclaredFields
from models.documents import Box, DocumentRole, DocumentText, FileInfo, Line, Page, Word
from models.fields import DocumentKind, Evidence, FieldValue, LabelExtraction, ReceiptExtraction
from models.verdict import Reason, Status, Verdict

__all__ = [
    "BankDetails", "Box", "Campaign", "Claim", "Claimant", "DeclaredFields", "DocumentKind",
    "DocumentRole", "DocumentText", "Evidence", "ExcludedChannel", "FieldValue", "FileInfo",
    "LabelExtraction", "Line", "Page", "ReceiptExtraction", "Reason", "Reseller", "Sku",
    "Status", "Verdict", "Word",
]
