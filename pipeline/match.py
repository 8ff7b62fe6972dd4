"""Match stage: the receipt's reseller, names, SKU and sales channel against a
campaign's lists.

* Names: closed-set fuzzy match (rapidfuzz) of header-line candidates (single
  lines and 2-3 consecutive lines joined) against the list, on accent-free
  upper-case text and on its OCR-confusion fold; company forms (ApS, AB, SDN
  BHD...) are compared with and without; lines nearer the top win ties.
* Resellers: name and VAT number must point to the same reseller; the VAT
  number alone identifies one when the name is unreadable.
* SKUs: structured comparison of focal range, aperture, series, line and mount
  (a Sony-E line never matches an L-mount SKU; without a mount the variants
  tie), model codes and aliases, the SKU number itself.
* Excluded channels: every word of a pattern in one row or two adjacent rows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import fuzz

from models.campaign import ExcludedChannel, Reseller, Sku
from models.documents import DocumentText
from models.fields import Evidence, ReceiptExtraction
from models.match import ChannelHit, NameMatch, ResellerMatch, SkuMatch
from pipeline.extract.layout import build_rows
from pipeline.extract.products import ProductSpec, parse_product
from pipeline.extract.text import fold_confusions, fold_text, norm_name
from pipeline.extract.vat import vat_digits_key, vat_key

log = logging.getLogger(__name__)

NAME_THRESHOLD = 0.75

_FORMS = re.compile(
    r"\b(APS|A S|AS|ASA|AB|OY|OYJ|SRL|S R L|SA|S A|LTD|LIMITED|GMBH|SDN BHD|SDN|BHD|S B|PLC|INC|CO|I S|IVS)\b"
)


def _strip_forms(s: str) -> str:
    return " ".join(_FORMS.sub(" ", s).split())


def similarity(a: str, b: str) -> float:
    """0..1 similarity for declared-vs-found comparisons, tolerant of accents,
    case, spacing/punctuation and OCR letter/digit confusions."""
    if not a or not b:
        return 0.0
    na, nb = norm_name(a), norm_name(b)
    if not na or not nb:
        return 0.0
    s1 = max(fuzz.ratio(na, nb), fuzz.token_sort_ratio(na, nb))
    s2 = fuzz.ratio(na.replace(" ", ""), nb.replace(" ", ""))
    fa, fb = fold_confusions(a), fold_confusions(b)
    s3 = fuzz.ratio(fa, fb) if fa and fb else 0.0
    return round(max(s1, s2, s3) / 100.0, 4)


@lru_cache(maxsize=64)
def _prep_names(names: tuple[str, ...]) -> tuple[tuple[str, str, str, bool], ...]:
    return tuple((n, norm_name(n), _strip_forms(norm_name(n)), bool(_FORMS.search(norm_name(n)))) for n in names)


#: the Malaysian company form "SDN BHD" as OCR misreads it on receipts ("SUN BHD",
#: "SIN BHD", "SDN BHO", "SDN 8HD"): read back as the form on the candidate side only
_FORM_SLIPS = (
    (re.compile(r"(?<![A-Z0-9])S[UIL1O0](N)(?= (?:B[H8][DO0]|8H[DO0])(?![A-Z0-9]))"), "SDN"),
    (re.compile(r"(?<=SDN )(?:B[H8][O0]|8H[DO0]|BH0)(?![A-Z0-9])"), "BHD"),
)


def _unslip_forms(c: str) -> str:
    for rx, sub in _FORM_SLIPS:
        c = rx.sub(sub, c)
    return c


def _name_score(cand: str, target_norm: str, target_core: str) -> float:
    c = _unslip_forms(norm_name(cand))
    if not c or not target_norm:
        return 0.0
    s = fuzz.ratio(c, target_norm)
    core = _strip_forms(c)
    if core and target_core:
        s = max(s, 0.97 * fuzz.ratio(core, target_core))
        # the candidate holds the name plus extra text (a registration number, a branch)
        if len(target_core) >= 6 and len(core) > len(target_core):
            s = max(s, 0.93 * fuzz.partial_ratio(target_core, core) * min(1.0, 0.55 + len(target_core) / len(core)))
    fc, ft = fold_confusions(c), fold_confusions(target_norm)
    if fc and ft:
        s = max(s, 0.97 * fuzz.ratio(fc, ft))
    return s / 100.0


#: a word on at least this many names of the list ("ENTERPRISE", "RESTORAN", "TRADING") is
#: generic: it says little about which company printed the receipt (on lists of at
#: least GENERIC_LIST_MIN names; a short list's words are all distinctive)
GENERIC_MIN, GENERIC_LIST_MIN = 4, 40


def _distinct_words(s: str, counts: dict[str, int], generic_folds: frozenset[str] = frozenset()) -> str:
    """`s` (normalised) without its company forms and generic words; with `generic_folds`
    (the OCR-confusion folds of the generic words, `_generic_folds`) also without words
    that are a generic word read with a slip ("RE5T0RAN" for RESTORAN)."""
    return " ".join(w for w in _strip_forms(s).split()
                    if counts.get(w, 0) < GENERIC_MIN and (not generic_folds or fold_confusions(w) not in generic_folds))


@lru_cache(maxsize=16)
def _generic_folds(names: tuple[str, ...]) -> frozenset[str]:
    """The OCR-confusion folds of the list's generic words (on GENERIC_MIN names or more)."""
    return frozenset(fold_confusions(w) for w, n in _word_counts(names).items() if n >= GENERIC_MIN and len(w) >= 3)


def _distinct_capped(score: float, cand_norm: str, target_norm: str, counts: dict[str, int],
                     generic_folds: frozenset[str] = frozenset()) -> float:
    """`score`, lowered to at most the mean of itself and the similarity of the names'
    distinctive words (without company forms and generic words): the shared form and
    generic words inflate the whole-name ratio ("CO. (M) SDN BHD" is not "COSWAY (M) SDN
    BHD", "ENTERPRISE (SETIA ALAM) SDN BHD" is not "SWC ENTERPRISE SDN BHD")."""
    td = _distinct_words(target_norm, counts)
    if not td:
        counts = {}  # a name of generic words only ("AEON CO. (M) BHD"): without its forms
        td = _distinct_words(target_norm, counts)
    if not td or td == target_norm:
        return score
    cd = _distinct_words(_unslip_forms(cand_norm), counts, generic_folds)
    cr = 0.0
    if cd:
        cr = max(fuzz.ratio(cd, td), fuzz.ratio(fold_confusions(cd), fold_confusions(td)),
                 fuzz.ratio(cd.replace(" ", ""), td.replace(" ", ""))) / 100.0
        if len(td) >= 6 and len(cd) > len(td):
            cr = max(cr, fuzz.partial_ratio(td, cd) / 100.0 * min(1.0, 0.55 + len(td) / len(cd)))
    return score if cr >= score else 0.5 * (score + cr)


#: position weight of a header line printed after the seller's block (after a
#: document title, a receipt number, a date or a VAT id): there it is more often
#: the customer's name ("TAX INVOICE / Inv No / Date / <customer> SDN BHD")
LATER_BLOCK_WEIGHT = 0.88
#: position weight of a top row the header filter judged not a name
TOP_LINE_WEIGHT = 0.9


def _candidates(ex: ReceiptExtraction) -> list[tuple[str, float, Evidence | None]]:
    """(text, position weight, evidence) from header lines, single and joined (2-3
    consecutive rows), each also as read in full (the part cut off at a label may
    belong to the name: "RELAIS TOTAL ...")."""
    out: list[tuple[str, float, Evidence | None]] = []
    hl = list(ex.header_lines)
    for k, fv in enumerate(hl):
        w = max(0.85, 1.0 - 0.015 * k)
        if fv.meta.get("block", "0") != "0":
            w *= LATER_BLOCK_WEIGHT
        out.append((fv.value, w, fv.evidence))
        _add_prefix(out, fv.value, w, fv.evidence)
        raw = " ".join(fv.raw.split())
        if raw != fv.value and sum(ch.isalpha() for ch in raw) > sum(ch.isdigit() for ch in raw):
            out.append((raw, 0.97 * w, fv.evidence))
        texts = [fv.value]
        last_row = int(fv.meta.get("row", "-9"))
        for j in range(k + 1, min(k + 3, len(hl))):
            r = int(hl[j].meta.get("row", "-99"))
            if r != last_row + 1 or hl[j].meta.get("block", "0") != fv.meta.get("block", "0"):
                break  # a name is not split by a title, number or date row
            texts.append(hl[j].value)
            last_row = r
            out.append((" ".join(texts), w, fv.evidence))
    if ex.reseller_name is not None and not any(t == ex.reseller_name.value for t, _, _ in out):
        out.append((ex.reseller_name.value, 0.95, ex.reseller_name.evidence))
    # rows the header filter dropped (an OCR slip can make a name look like an address)
    for fv in ex.top_lines:
        w = TOP_LINE_WEIGHT * max(0.85, 1.0 - 0.015 * int(fv.meta.get("rank", "0")))
        out.append((fv.value, w, fv.evidence))
        if int(fv.meta.get("rank", "0")) < PREFIX_MAX_RANK:
            _add_prefix(out, fv.value, w, fv.evidence)
    return out


#: the name before an address on the same row is a candidate on the first rows only
PREFIX_MAX_RANK = 6
#: position weight factor of such a name (the row as read stays a candidate too)
PREFIX_WEIGHT = 0.98


def _add_prefix(out: list[tuple[str, float, Evidence | None]], text: str, w: float, ev: Evidence | None) -> None:
    """The name at the front of a row that also holds the address or the registration
    number (printed on one row, or two rows joined by the OCR), as a further candidate."""
    from pipeline.extract.reseller import name_prefix

    p = name_prefix(text)
    if p is not None and p != text:
        out.append((p, PREFIX_WEIGHT * w, ev))


def _score_names(cands: list[tuple[str, float, Evidence | None]], targets: Sequence[str]
                 ) -> dict[int, tuple[float, Evidence | None, str]]:
    """Best (score, evidence, candidate text) per target index (targets scoring
    nothing left out). The score is the fuzzy name score times the line's position
    weight, plus small tie-breaks: the spelling as printed (punctuation kept) and a
    legal name."""
    prepped = _prep_names(tuple(targets))
    counts = _word_counts(tuple(targets)) if len(targets) >= GENERIC_LIST_MIN else {}
    gfolds = _generic_folds(tuple(targets)) if counts else frozenset()
    best: dict[int, tuple[float, Evidence | None, str]] = {}
    for text, w, ev in cands:
        ntext = norm_name(text)
        if len(ntext) < 2:
            continue
        utext = " ".join(text.upper().split())
        for i, (raw, tn, tc, legal) in enumerate(prepped):
            # cheap pre-filter
            if fuzz.partial_ratio(ntext, tn) < 50 and fuzz.ratio(ntext, tn) < 50:
                continue
            s = _distinct_capped(_name_score(text, tn, tc), ntext, tn, counts, gfolds) * w
            s += 0.01 * fuzz.ratio(utext, " ".join(raw.upper().split())) / 100.0 + (0.015 if legal else 0.0)
            if s > best.get(i, (0.0,))[0] + 1e-9:
                best[i] = (s, ev, text)
    return best


def _best_name(cands: list[tuple[str, float, Evidence | None]], targets: Sequence[str]
               ) -> tuple[int, float, Evidence | None]:
    scores = _score_names(cands, targets)
    if not scores:
        return (-1, 0.0, None)
    i = max(scores, key=lambda k: (scores[k][0], -k))
    return i, scores[i][0], scores[i][1]


#: two list names this similar (or equal without their company forms) are spellings
#: of one company ("MR. D.I.Y. (M) SDN BHD" / "MR D.I.Y. (M) SDN BHD", a typo): the
#: margin that makes a match trustworthy is measured against the other companies
VARIANT_RATIO = 93
#: a match is trusted (confidence = its score) when the best other company scores
#: at least this much lower; a closer runner-up takes confidence off
MARGIN = 0.12
#: a brand line ("AA PHARMACY") and the legal name printed under it ("SUBANG
#: HEALTHCARE SDN BHD") can both be on the list: the legal name is the company,
#: when its own score is at least this and within LEGAL_WINDOW of the brand's
LEGAL_MIN, LEGAL_WINDOW = 0.68, 0.15


@lru_cache(maxsize=16)
def _variant_groups(names: tuple[str, ...]) -> tuple[int, ...]:
    """Group id per name: names that are spellings of one company share one."""
    normed = [norm_name(n) for n in names]
    cores = [_strip_forms(n) for n in normed]
    parent = list(range(len(names)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    by_core: dict[str, int] = {}
    for i, c in enumerate(cores):
        key = c.replace(" ", "")
        if key in by_core:
            parent[find(i)] = find(by_core[key])
        else:
            by_core[key] = i
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if abs(len(normed[i]) - len(normed[j])) <= 4 and len(normed[i]) >= 8 and \
                    fuzz.ratio(normed[i], normed[j]) >= VARIANT_RATIO:
                parent[find(j)] = find(i)
    return tuple(find(i) for i in range(len(names)))


#: below the auto-approve threshold (0.80): the match stands, a person confirms it
UNSURE_CAP = 0.79
#: spellings of one company scoring this close are told apart by their words
SPELLING_WINDOW = 0.04


@lru_cache(maxsize=16)
def _word_counts(names: tuple[str, ...]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n in names:
        for w in set(norm_name(n).split()):
            counts[w] = counts.get(w, 0) + 1
    return counts


#: a spelling of the winner's company that holds words the winner lacks ("MR. D.I.Y. (M)
#: SDN BHD" for "MR. D.I.Y. SDN BHD") and scores within this of it: the words may be on
#: the receipt and lost by the OCR (dropping text is a commoner slip than inventing it)
LONGER_VARIANT_GAP = 0.1


def _has_more_words(longer: str, shorter: str) -> bool:
    """`longer` holds every word of `shorter` and at least one more, or is `shorter`
    continued: a spelling cut at the line end ("RESTORAN WAN SHE" of "RESTORAN WAN SHENG")."""
    a, b = norm_name(longer).split(), norm_name(shorter).split()
    if len(a) > len(b) and all(a.count(w) >= b.count(w) for w in set(b)):
        return True
    return len(a) == len(b) and a[:-1] == b[:-1] and len(a[-1]) > len(b[-1]) and a[-1].startswith(b[-1])


def _likeliest_spelling(i: int, scores: dict[int, tuple[float, Evidence | None, str]], groups: tuple[int, ...],
                        names: tuple[str, ...]) -> int:
    """Among the spellings of the winner's company that score within SPELLING_WINDOW
    of it, the one whose words are the commoner on the list: "RESTORAN WAN SHENG"
    over "RSTORAN WAN SHENG" when the OCR dropped the E (a list that holds a typo
    variant also holds the word's usual spelling in other names). Equal words
    (punctuation variants) keep the score order, which prefers the printed spelling."""
    counts = _word_counts(names)
    s = scores[i][0]
    close = [k for k in scores if groups[k] == groups[i] and scores[k][0] >= s - SPELLING_WINDOW]
    if len(close) < 2:
        return i
    return max(close, key=lambda k: (_commonness(names[k], counts), scores[k][0], -k))


def _commonness(name: str, counts: dict[str, int]) -> int:
    """How common a name's words are on the list (each word counted at most 5 times)."""
    return sum(min(counts.get(w, 0), 5) for w in norm_name(name).split())


def _look_alike_spelling(i: int, scores: dict[int, tuple[float, Evidence | None, str]], groups: tuple[int, ...],
                         names: tuple[str, ...]) -> bool:
    """Another spelling of the winner's company, scoring within SPELLING_WINDOW of it, differs
    from it only in letters that OCR confuses with each other (I/L/1, O/D/0, S/5, B/8, G/6:
    "GARDENIA BAKERIES (KL)" and "(KI )"), and is no rarer on the list: what the receipt reads
    cannot tell which of the two is meant, so the choice between them is a guess. Spellings
    that differ only in spacing or punctuation are the same name and do not count."""
    s = scores[i][0]
    letters_i = norm_name(names[i]).replace(" ", "")
    fold_i = fold_confusions(norm_name(names[i]))
    counts = _word_counts(names)
    for k in scores:
        if k == i or groups[k] != groups[i] or scores[k][0] < s - SPELLING_WINDOW:
            continue
        if norm_name(names[k]).replace(" ", "") == letters_i:
            continue  # a punctuation variant: the same letters
        if fold_confusions(norm_name(names[k])) == fold_i and _commonness(names[k], counts) >= _commonness(names[i], counts):
            return True
    return False


#: a company read in the seller's block (block 0) wins over one read in a later block when
#: it scores at least this, and at most SELLER_BLOCK_WINDOW below the later one
SELLER_BLOCK_MIN, SELLER_BLOCK_WINDOW = 0.65, 0.2


def _block_of(ex: ReceiptExtraction, ev: Evidence | None) -> str | None:
    """The header block (`extract_header`'s meta "block") of the header line read at `ev`;
    None when `ev` is no header line's (a top line, the reseller guess)."""
    if ev is None:
        return None
    for fv in ex.header_lines:
        if fv.evidence == ev:
            return fv.meta.get("block", "0")
    return None


def match_names(ex: ReceiptExtraction, names: Sequence[str]) -> NameMatch:
    """Closed-set match of the receipt's header lines against a plain list of names.

    Every name is scored over the header lines (single and joined); the best name
    wins, except that a legal name ("... SDN BHD") printed with a brand line wins
    over the brand. `score` (the confidence) is the winner's score, lowered when
    another company (not another spelling of the same one) comes within MARGIN."""
    if not names:
        return NameMatch()
    scores = _score_names(_candidates(ex), names)
    if not scores:
        return NameMatch()
    groups = _variant_groups(tuple(names))
    prepped = _prep_names(tuple(names))
    order = sorted(scores, key=lambda k: (-scores[k][0], k))
    i = order[0]
    if not prepped[i][3]:
        legal = [k for k in order[1:] if prepped[k][3] and groups[k] != groups[i]
                 and scores[k][0] >= LEGAL_MIN and scores[k][0] >= scores[i][0] - LEGAL_WINDOW
                 and norm_name(scores[k][2]) != norm_name(scores[i][2])]
        if legal:
            i = legal[0]
    seller_first = False
    if _block_of(ex, scores[i][1]) not in (None, "0"):
        # read below the seller's block (after a title, number or date): possibly the
        # customer; a company read in the seller's own block, poorly but recognisably, is
        # likelier the seller ("GAKDENI ibS (KL) SDN BED" above "TAX INVOICE / Inv No / Date
        # / <customer> SDN BHD")
        seller = [k for k in order if groups[k] != groups[i] and _block_of(ex, scores[k][1]) == "0"
                  and scores[k][0] >= SELLER_BLOCK_MIN and scores[k][0] >= scores[i][0] - SELLER_BLOCK_WINDOW]
        if seller:
            i, seller_first = seller[0], True
    i = _likeliest_spelling(i, scores, groups, tuple(names))
    s = scores[i][0]
    # (a company preferred for being read in the seller's block is measured against the
    # companies read there, not against the later block's it was preferred to)
    others = [scores[k][0] for k in order if groups[k] != groups[i]
              and not (seller_first and _block_of(ex, scores[k][1]) not in (None, "0"))]
    runner = max(others, default=0.0)
    conf = s
    if runner > s - MARGIN:
        conf = s - 0.5 * (MARGIN - (s - runner))
    words = norm_name(names[i]).split()
    if any(groups[k] == groups[i] and norm_name(names[k]).split() != words and scores[k][0] > s + 0.005
           for k in scores):
        conf = min(conf, UNSURE_CAP)  # the commoner spelling won over the closer one: a guess
    if any(groups[k] == groups[i] and _has_more_words(names[k], names[i]) and scores[k][0] > s - LONGER_VARIANT_GAP
           for k in scores):
        conf = min(conf, UNSURE_CAP)  # "MR. D.I.Y. SDN BHD" read: the "(M)" of the other spelling may be lost
    if _look_alike_spelling(i, scores, groups, tuple(names)):
        conf = min(conf, UNSURE_CAP)  # "(KL)" or "(KI )": the OCR cannot tell the two spellings apart
    ev = scores[i][1]
    if _block_of(ex, ev) not in (None, "0"):
        conf = min(conf, UNSURE_CAP)  # read below the title/number/date block: possibly the customer
    if seller_first:
        conf = min(conf, UNSURE_CAP)  # a poor reading preferred for where it was printed: a person confirms
    score = round(max(0.0, min(1.0, conf)), 4)
    return NameMatch(name=names[i] if score >= NAME_THRESHOLD * 0.8 else None, score=score,
                     evidence=(ev,) if ev is not None else ())


def match_reseller(ex: ReceiptExtraction, resellers: Sequence[Reseller]) -> ResellerMatch:
    """Reseller by name/aliases and by VAT number; `conflict` when they disagree."""
    if not resellers:
        return ResellerMatch()
    evidence: list[Evidence] = []
    # by VAT
    by_vat: Reseller | None = None
    vat_conf = 0.0
    vat_fields = [f for f in (ex.reseller_vat,) if f is not None]
    for fv in vat_fields:
        k, dk = vat_key(fv.value), vat_digits_key(fv.value)
        for r in resellers:
            if not r.vat:
                continue
            if vat_key(r.vat) == k or (dk and vat_digits_key(r.vat) == dk):
                by_vat = r
                valid = fv.meta.get("checksum") == "valid"
                vat_conf = min(0.97, 0.6 + 0.35 * fv.confidence + (0.05 if valid else 0.0))
                if fv.evidence is not None:
                    evidence.append(fv.evidence)
                break
    # by name (each reseller's name and aliases)
    labels: list[str] = []
    owners: list[Reseller] = []
    for r in resellers:
        for n in (r.name, *r.aliases):
            labels.append(n)
            owners.append(r)
    i, s, ev = _best_name(_candidates(ex), labels)
    by_name = owners[i] if i >= 0 and s >= NAME_THRESHOLD else None
    name_score = round(min(1.0, s), 4) if i >= 0 else 0.0
    if by_name is not None and ev is not None:
        evidence.append(ev)
    conflict = by_name is not None and by_vat is not None and by_name.id != by_vat.id
    if conflict:
        reseller, score = None, 0.0
    elif by_name is not None and by_vat is not None:
        reseller, score = by_vat, min(1.0, 0.5 * vat_conf + 0.5 * name_score + 0.1)
    elif by_vat is not None:
        reseller, score = by_vat, vat_conf
    elif by_name is not None:
        reseller, score = by_name, name_score
    else:
        reseller, score = None, name_score
    return ResellerMatch(reseller=reseller, score=round(min(1.0, score), 4), by_name=by_name,
                         name_score=name_score, by_vat=by_vat, conflict=conflict, evidence=tuple(evidence))


# ---------------------------------------------------------------- SKUs

# "A7C" must not match "A7C II": a generation suffix names another model
_NOT_NEXT_GEN = r"(?![\s\-]?(?:II|III|IV|V|VI|VII|MK\s?\d|MARK\s?[0-9IVX]+|M\d)(?![A-Z0-9]))"


def _flex(alias: str) -> re.Pattern[str] | None:
    parts = re.findall(r"[A-Z0-9]+", norm_name(alias))
    if not parts:
        return None
    return re.compile(r"(?<![A-Z0-9])" + r"[\s\-/]*".join(map(re.escape, parts)) + r"(?![A-Z0-9])" + _NOT_NEXT_GEN)


@lru_cache(maxsize=1024)
def _chars_rx(code: str) -> re.Pattern[str]:
    """A compact model code with optional spaces/dashes between its characters."""
    return re.compile(r"(?<![A-Z0-9])" + r"[\s\-]?".join(map(re.escape, code)) + r"(?![A-Z0-9])" + _NOT_NEXT_GEN)


_ROMAN = {"II", "III", "IV", "V", "VI", "VII"}


def _model_tokens(s: str) -> set[str]:
    return {t for t in norm_name(s).split() if any(ch.isdigit() for ch in t) or t in _ROMAN}


_SERIES = {"DG", "DN", "HSM", "DC", "OS", "GM", "G", "OSS"}
#: a lens's generation ("FE 70-200mm F4 G OSS II" is not the first "FE 70-200mm F4 G OSS")
_GENERATIONS = {"II", "III", "IV"}
#: a maker's lens-line designation: one of them names a lens apart from another of the same
#: focal length and aperture ("FE 35mm F1.4 GM" vs "FE 35mm F1.4 ZA")
_DESIGNATIONS = {"G", "GM", "ZA"}
#: score kept, at most, by a lens line that names another generation or designation than the SKU:
#: never accepted, and not low enough for SKU_NOT_ELIGIBLE either (one OCR slip, "GM" read "G",
#: must not reject a claim: a handler looks)
OTHER_LENS_CAP = 0.5
#: score kept, at most, when the SKU has a generation or designation the line does not print
#: (the first generation, or a line cut short): below the accept threshold
UNSTATED_CAP = 0.6


def _design_gap(line: ProductSpec, sku: ProductSpec) -> float | None:
    """The cap on a lens line's score from the generation and designation marks: the line
    prints another one than the SKU's (`OTHER_LENS_CAP`), or lacks one the SKU has
    (`UNSTATED_CAP`); None when they agree."""
    cap: float | None = None
    for marks in (_GENERATIONS, _DESIGNATIONS):
        ml, ms = line.series & marks, sku.series & marks
        if ml != ms:
            if ml:
                return OTHER_LENS_CAP
            cap = UNSTATED_CAP
    return cap


def _code_relation(line: ProductSpec, sku_codes: set[str]) -> str | None:
    """How the line's model codes relate to the SKU's (`sku_codes`: its number and the codes
    in its name), compared on the OCR-confusion fold: "own" when one is the SKU's code, alone
    or with one variant letter ("ILCE7M4K" kit, "ILCE7CB" colour; not "M2", not "2");
    "other" when none is but one is of the SKU's family, another model ("ILCE7M3" for ILCE7M4,
    "ILCE7CM2" for ILCE7C); None otherwise. A code that is the start of the SKU's ("SEL50" of
    SEL50F12GM, and so also "SEL70200G" of SEL70200G2) may be cut off by a narrow line: it says
    nothing (the lens attributes judge it). When the SKU's own code is printed, another code
    of the family is taken for an OCR slip."""
    def same(c: str, o: str) -> bool:
        return fold_confusions(c) == fold_confusions(o) or (
            len(c) == len(o) + 1 and c[-1].isalpha() and fold_confusions(c[:-1]) == fold_confusions(o))

    codes = [c for c in sku_codes if len(c) >= 5 and not c.isdigit()]
    # the model's codes, not a family name inside one ("RX100" of "DSCRX100M6")
    own = [c for c in codes if not any(c != o and c in o and not same(o, c) for o in codes)]
    if not own:
        return None

    def cut(c: str, o: str) -> bool:  # the code cut off at the end of a narrow line ("SEL50", "ILCE-66")
        return len(c) < len(o) and fold_confusions(o).startswith(fold_confusions(c))

    if any(same(c, o) for c in line.codes for o in own):
        return "own"
    if any(len(c) >= 5 and fold_confusions(c)[:3] == fold_confusions(o)[:3] and not cut(c, o)
           for c in line.codes for o in own):
        return "other"
    return None


def _spec_conflict(line: ProductSpec, sku: ProductSpec) -> bool:
    """The line names an attribute that contradicts the SKU: another focal range,
    aperture, mount or line letter, the other design (DN vs HSM, DC vs DG), or another
    generation or designation mark (II, GM vs G vs ZA)."""
    if line.focal is not None and sku.focal is not None and line.focal != sku.focal:
        return True
    if line.is_lens and sku.is_lens and _design_gap(line, sku) == OTHER_LENS_CAP:
        return True
    if line.aperture and sku.aperture and abs(line.aperture[0] - sku.aperture[0]) >= 0.05:
        return True
    if line.mount and sku.mount and line.mount != sku.mount:
        return True
    if line.line and sku.line and line.line != sku.line:
        return True
    for pair in ({"DN", "HSM"}, {"DC", "DG"}):
        if pair & line.series and pair & sku.series and not (pair & line.series & sku.series):
            return True
    return False


def _line_implied(line: ProductSpec, specs: Sequence[ProductSpec]) -> bool:
    """The line omits the line letter (Art/Contemporary/Sports), but it prints the focal
    range, the aperture and a design series, and every listed lens those fit is of one
    design and one line (its mount variants at most): the letter could only be that one.
    A lens family listed in several lines (or apertures, designs) stays open."""
    if line.line is not None or line.focal is None or not line.aperture or not (line.series & _SERIES):
        return False
    fits = [sp for sp in specs if sp.is_lens and sp.focal == line.focal and not _spec_conflict(line, sp)]
    if not fits:
        return False
    first = fits[0]
    return all(sp.line is not None and sp.line == first.line and sp.aperture and sp.aperture == first.aperture
               and (sp.series & _SERIES) == (first.series & _SERIES) for sp in fits)


def _spec_score(line: ProductSpec, sku: ProductSpec, line_implied: bool = False) -> float:
    """Attribute agreement of two parsed lens names, 0..1 (0 when the focal range
    or the mount contradicts). `line_implied`: the line letter the receipt omits is
    the only one the campaign's list leaves for these attributes (`_line_implied`);
    it counts as printed when the aperture and every design series of the SKU are."""
    if line.focal is None or sku.focal is None or line.focal != sku.focal:
        return 0.0
    s = 0.35
    if line.aperture and sku.aperture:
        if abs(line.aperture[0] - sku.aperture[0]) < 0.05:
            s += 0.2
        else:
            return 0.1
    else:
        s += 0.08
    ser_l = line.series & _SERIES
    ser_s = sku.series & _SERIES
    full = bool(line.aperture and sku.aperture and ser_s and ser_s <= ser_l)
    if ser_l and ser_s:
        inter = len(ser_l & ser_s)
        s += 0.15 * inter / len(ser_s)
        if {"DN", "HSM"} & ser_l and {"DN", "HSM"} & ser_s and not ({"DN", "HSM"} & ser_l & ser_s):
            s -= 0.25  # mirrorless DN vs DSLR HSM design: a different lens
        if {"DC", "DG"} & ser_l and {"DC", "DG"} & ser_s and not ({"DC", "DG"} & ser_l & ser_s):
            s -= 0.15
    else:
        s += 0.05
    if line.line and sku.line:
        s += 0.1 if line.line == sku.line else -0.2
    elif sku.line:
        s += 0.1 if line_implied and full else 0.04
    if line.mount and sku.mount:
        if line.mount != sku.mount:
            return min(s, 0.2)
        s += 0.2
    cap = _design_gap(line, sku)
    if cap is not None:
        s = min(s, cap)
    return max(0.0, min(0.95, s))


def _sku_line_score(text: str, sku: Sku, spec: ProductSpec, line_spec: ProductSpec,
                    line_implied: bool = False) -> float:
    t = norm_name(text)
    if not t:
        return 0.0
    # the SKU number itself
    code = norm_name(sku.sku)
    if len(code) >= 5 and re.search(r"(?<![A-Z0-9])" + re.escape(code) + r"(?![A-Z0-9])", t):
        return 0.97
    relation = _code_relation(line_spec, {code, *spec.codes})
    best = _sku_line_score_by_name(text, t, sku, spec, line_spec, relation, line_implied)
    # a model code of another model of the family: never accepted (nor rejected on it alone)
    return min(best, UNSTATED_CAP) if relation == "other" else best


def _sku_line_score_by_name(text: str, t: str, sku: Sku, spec: ProductSpec, line_spec: ProductSpec,
                            relation: str | None, line_implied: bool) -> float:
    """`_sku_line_score` past the SKU number: lens attributes, model codes, aliases, fuzzy
    names (`t`: the line's normalised text)."""
    best = 0.0
    if spec.is_lens and line_spec.is_lens:
        best = _spec_score(line_spec, spec, line_implied)
        # model codes printed with the lens (SEL2470GM2)
        if spec.codes & line_spec.codes:
            best = max(best, 0.92)
        # the SKU's own short name ("FE 100-400 GM"), unless the line contradicts it
        # (another aperture, mount, line or design printed around it)
        if best < 0.9 and not _spec_conflict(line_spec, spec):
            for alias in sku.aliases:
                rx = _flex(alias)
                if rx is not None and rx.search(t) and len(alias.replace(" ", "")) >= 3:
                    best = max(best, 0.9)
        return best
    # model codes and aliases (cameras; lenses named by code)
    if relation == "own":
        best = 0.92
    for c in spec.codes:
        if len(c) >= 5 and _chars_rx(c).search(t):
            best = max(best, 0.92)
    for alias in (*sku.aliases, sku.name):
        rx = _flex(alias)
        if rx is not None and rx.search(t) and len(alias.replace(" ", "")) >= 3:
            best = max(best, 0.9 if alias != sku.name else 0.95)
    if best:
        return best
    # fuzzy fallback with a guard on model tokens (numbers, roman numerals)
    for alias in (sku.name, *sku.aliases):
        s = fuzz.token_set_ratio(norm_name(alias), t) / 100.0
        if s < 0.8:
            continue
        need = _model_tokens(alias)
        have = _model_tokens(text)
        if need and not need <= have:
            s *= 0.4
        # a generation the alias does not name ("A7C II" is not "A7C")
        if (have & _ROMAN) - need:
            s *= 0.4
        best = max(best, 0.75 * s)
    return best


@lru_cache(maxsize=512)
def _sku_spec(name: str) -> ProductSpec:
    return parse_product(name)


def sku_text_score(text: str, sku: Sku) -> float:
    """How well one free text (e.g. the model the claimant typed) names this SKU,
    on the same structured comparison as receipt lines (0..1; a contradicting
    mount or focal length scores low however many words are shared)."""
    return _sku_line_score(text, sku, _sku_spec(sku.name), parse_product(text))


VARIANT_TIE = 0.005  # scores this close are a tie: the line says nothing that separates them


def _mount_variants(a: ProductSpec, b: ProductSpec) -> bool:
    """Two SKU names of one lens that differ only in the mount."""
    return (a.is_lens and a.focal == b.focal and a.aperture == b.aperture and a.line == b.line
            and a.series == b.series and a.mount != b.mount)


def match_sku(ex: ReceiptExtraction, skus: Sequence[Sku], doc: DocumentText,
              declared: str | None = None) -> SkuMatch:
    """Best eligible SKU over the receipt's product lines and rows (single and two
    adjacent rows joined). `runner_up` is the best *other* SKU; a close runner-up
    means the receipt does not say which variant (e.g. the mount is missing).

    Shops often print a lens without its mount ("24mm F1.4 DG HSM Art"). When the best
    line ties between mount variants of one lens that carry the same cashback amount,
    the receipt is consistent with each of them: the variant the claimant `declared` is
    taken (listed in `variants`) and the runner-up is the best SKU outside the family,
    so the margin rule still sees a real alternative. Without a declared variant among
    them the tie stays, and the rules ask for review."""
    if not skus:
        return SkuMatch()
    lines: list[tuple[str, Evidence | None, float]] = []
    for fv in ex.product_lines:
        lines.append((fv.value, fv.evidence, 1.0))
    rows = build_rows(doc)
    for i, r in enumerate(rows):
        lines.append((r.text, r.evidence(), 1.0))
        if i + 1 < len(rows):
            lines.append((r.text + " " + rows[i + 1].text, r.evidence(r.text + " " + rows[i + 1].text), 0.97))
    scores: dict[str, tuple[float, str, Evidence | None]] = {}
    parsed = [(text, ev, w, parse_product(text)) for text, ev, w in lines]
    # two rows joined read the mount of either row: "... A SE 7.499,00" + "I alt" still says Sony E
    row_mounts = {" ".join(r.text.split()): parse_product(r.text).mount for r in rows}
    for text, _ev, w, ls in parsed:
        if w < 1.0 and ls.is_lens and ls.mount is None:
            for i, r in enumerate(rows[:-1]):
                if " ".join((r.text + " " + rows[i + 1].text).split()) == " ".join(text.split()):
                    m = row_mounts.get(" ".join(r.text.split())) or row_mounts.get(" ".join(rows[i + 1].text.split()))
                    if m:
                        ls.mount = m
                    break
    specs = [_sku_spec(sku.name) for sku in skus]
    implied = [_line_implied(ls, specs) for _t, _e, _w, ls in parsed]
    for sku in skus:
        spec = _sku_spec(sku.name)
        best: tuple[float, str, Evidence | None] = (0.0, "", None)
        for (text, ev, w, ls), imp in zip(parsed, implied, strict=True):
            s = _sku_line_score(text, sku, spec, ls, imp) * w
            if s > best[0]:
                best = (s, text, ev)
        scores[sku.sku] = best
    order = sorted(skus, key=lambda s: -scores[s.sku][0])
    win = order[0]
    ws, wtext, wev = scores[win.sku]
    if ws <= 0.0:
        return SkuMatch(score=0.0)
    variants: tuple[str, ...] = ()
    wspec = _sku_spec(win.name)
    family = [s for s in order if scores[s.sku][0] >= ws - VARIANT_TIE and s.amount == win.amount
              and (s is win or _mount_variants(wspec, _sku_spec(s.name)))]
    if declared and len(family) > 1 and parse_product(wtext).mount is None:
        named = [s for s in family if sku_text_score(declared, s) >= 0.5]
        best_named = max(named, key=lambda s: sku_text_score(declared, s), default=None)
        if best_named is not None and sum(
                sku_text_score(declared, s) >= sku_text_score(declared, best_named) for s in named) == 1:
            win = best_named
            ws, wtext, wev = scores[win.sku]
            variants = tuple(s.sku for s in family)
    rest = [s for s in order if s is not win and (not variants or s.sku not in variants)]
    ru = rest[0] if rest else None
    rs = scores[ru.sku][0] if ru is not None else 0.0
    return SkuMatch(sku=win if ws >= 0.5 else None, score=round(ws, 4), line_text=" ".join(wtext.split()),
                    runner_up=ru if rs > 0 else None, runner_up_score=round(rs, 4),
                    evidence=(wev,) if wev is not None else (), variants=variants)


# ---------------------------------------------------------------- channels

def _words(s: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold_text(s))


def _word_in(word: str, tokens: list[str], joined: str) -> bool:
    if word in tokens:
        return True
    if len(word) >= 5:
        for t in tokens:
            if abs(len(t) - len(word)) <= 2 and fuzz.ratio(word, t) >= 80:
                return True
        # glued to a neighbour: "www.ebay.dk" is split, but "cdonmarketplace" is not
        if word in joined:
            return True
    return False


def find_excluded_channels(doc: DocumentText, channels: Sequence[ExcludedChannel]) -> list[ChannelHit]:
    """Rows that name an excluded sales channel (e.g. a marketplace)."""
    rows = build_rows(doc)
    toks = [_words(r.text) for r in rows]
    hits: list[ChannelHit] = []
    for ch in channels:
        found = None
        for pat in ch.patterns:
            pw = _words(pat)
            if not pw:
                continue
            for i, r in enumerate(rows):
                single = toks[i]
                if all(_word_in(w, single, "".join(single)) for w in pw):
                    found = (r.text, [r.evidence()])
                    break
                if len(pw) > 1 and i + 1 < len(rows):
                    both = toks[i] + toks[i + 1]
                    if all(_word_in(w, both, "".join(both)) for w in pw) and \
                            any(_word_in(w, single, "".join(single)) for w in pw):
                        found = (r.text + " / " + rows[i + 1].text, [r.evidence(), rows[i + 1].evidence()])
                        break
            if found:
                break
        if found:
            hits.append(ChannelHit(channel=ch, text=found[0], evidence=tuple(found[1])))
    return hits


__all__ = ["match_reseller", "match_names", "match_sku", "find_excluded_channels", "similarity"]
