"""One exception hierarchy for claimcheck. Library code raises these; the CLI
and the Prefect flow turn them into exit codes, verdict reasons or messages.
Messages never contain personal data (names, e-mails, accounts)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CLAIMS_FLAGGED = 1  # screening ran; at least one claim is not "approve" (only with --fail-on-flag)
    USAGE = 2
    INPUT_ERROR = 3  # an input could not be read at all (missing path, bad campaign file)
    CONFIG_ERROR = 4
    DEPENDENCY_MISSING = 5  # tesseract or another external tool is not installed
    INTERNAL_ERROR = 10


class ClaimcheckError(Exception):
    exit_code: ExitCode = ExitCode.INTERNAL_ERROR
    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class CampaignError(ClaimcheckError):
    """A campaign file is missing, malformed or inconsistent."""

    exit_code = ExitCode.CONFIG_ERROR
    code = "CAMPAIGN_INVALID"


class ClaimInputError(ClaimcheckError):
    """claim.json or one of the claim's files cannot be used."""

    exit_code = ExitCode.INPUT_ERROR
    code = "CLAIM_INVALID"


class FileRejected(ClaimInputError):
    """An uploaded file fails the intake checks; `code` says which."""

    code = "FILE_REJECTED"


class OcrError(ClaimcheckError):
    """The OCR engine failed on a page."""

    code = "OCR_FAILED"


class DependencyMissing(ClaimcheckError):
    exit_code = ExitCode.DEPENDENCY_MISSING
    code = "DEPENDENCY_MISSING"
