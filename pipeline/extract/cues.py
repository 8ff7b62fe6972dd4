"""Label cues in da, nb, sv, fi, ro and en (incl. Malaysian receipt English).

A blank multilingual spaCy pipeline (`spacy.blank("xx")`) with an EntityRuler
of phrase patterns. Text is first folded (lower-case, accents stripped,
punctuation to spaces, OCR digit-in-word slips such as "T0TAL" repaired) so
that "CVR-nr.", "Cvr nr" and "CVR NR:" all read "cvr nr"; an offset map keeps
the cues' character positions in the original text.

The pipeline is built once per process (`get_nlp`, lazily cached).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.extract.text import fold_text

log = logging.getLogger(__name__)

# label -> id -> phrases (already in folded form: lower-case ASCII, words separated by one space)
PATTERNS: dict[str, dict[str, list[str]]] = {
    "DATE": {"date": [
        "dato", "date", "datum", "data", "paivamaara", "pvm", "pvm.", "data emiterii", "data emitere",
        "kjopsdato", "kobsdato", "kopsdatum", "fakturadato", "fakturadatum", "invoice date", "ordredato",
        "orderdatum", "laskun paivamaara", "data facturii", "data facturarii", "date of issue", "dato tid",
        "date time", "purchase date", "salgsdato", "leveringsdato", "ostopaiva", "tilauspaiva", "trans date",
        "doc date", "bill date", "receipt date", "tarikh",
        "txn date", "tran date", "transaction date", "inv date", "invoice dt", "sales date", "sale date",
        "issue date", "date issued", "tarikh invois", "tarikh resit", "tarikh jualan",
    ]},
    "TOTAL": {
        "strong": [
            "i alt", "ialt", "at betale", "a betale", "att betala", "yhteensa", "total de plata", "total plata",
            "grand total", "total incl", "total inkl", "total inclusive", "total amount", "total amt", "rounded",
            "total rounded", "rounded total", "nett total", "net total", "total sales", "total payable",
            "amount due", "total due", "totalbelob", "totalbelop", "summa att betala", "maksettava",
            "loppusumma", "total general", "de plata", "sum a betale", "belop a betale", "total inc",
            "total incl gst", "total incl of gst", "total amount payable", "total rm", "total sales incl",
            "total sales inclusive", "total amt rounded", "totalsum", "totalt a betale", "total dkk",
            "total nok", "total sek", "total eur", "total ron", "total lei", "round total", "nett amount",
            "net amount", "total inclusive gst", "total amount incl", "amount incl", "amount incl gst",
            "amount payable", "amount to pay", "amt due", "amt payable", "total after rounding", "total gst incl", "total gst inclusive", "total incl tax",
            "total inkl moms", "total inkl mva", "total inkl. moms", "grand amount", "total to pay", "nett",
            # Malay: grand total, overall total, amount to pay, amount paid, nett total
            "jumlah besar", "jumlah keseluruhan", "jumlah perlu dibayar", "perlu dibayar", "jumlah bersih",
            "jumlah termasuk gst", "jumlah termasuk cukai", "jumlah rm",
            "jumlah semua", "jumlah harga", "amaun perlu dibayar", "total after discount", "total after disc",
        ],
        "plain": ["total", "totalt", "summa", "sum", "totaal", "yht", "total rm", "total kr", "total eur",
                  "jumlah"],
    },
    "SUBTOTAL": {"subtotal": [
        "subtotal", "sub total", "mellemsum", "delsum", "delsumma", "valisumma", "sub ttl", "subtotaal",
        "subtotalt", "subtotal rm", "jumlah kecil", "subjumlah",
    ], "sub": [
        "jumlah tidak termasuk gst", "jumlah tidak termasuk cukai", "jumlah cukai", "jumlah diskaun",
        "jumlah item", "jumlah kuantiti", "jumlah barang", "jumlah jimat",
        "total excl", "total ex",
        "total exclusive", "total excluding", "excl", "exclusive", "ekskl", "exkl", "eksklusive", "netto",
        "total fara tva", "fara tva", "total qty", "total item", "total items", "total quantity", "qty",
        "total excl gst", "total excl of gst", "total before", "total discount", "total savings",
        "total gst", "total tax", "total moms", "moms i alt", "mva totalt", "total mva",
        "saving", "savings", "you save", "you saved", "du sparer", "du sparar", "besparelse", "sparet",
        "promotional saving", "total saving", "total savings", "included in total", "inclusive in total",
        "includes", "included", "total includes", "udgor", "utgjor", "moms udgor", "mva utgjor",
        "total item s", "no of items", "item count", "antal varer", "antall varer", "antal artiklar",
    ]},
    "TAX": {"tax": [
        "moms", "mva", "vat", "alv", "tva", "gst", "sst", "tax", "heraf moms", "herav mva", "varav moms",
        "josta alv", "din care tva", "gst summary", "tax summary", "momsgrundlag", "grundlag", "vat amount",
        "gst amount", "service charge", "svc chg", "service tax", "cukai", "cukai perkhidmatan",
        "cukai jualan", "caj perkhidmatan",
    ]},
    "PAYMENT": {"pay": [
        "cash", "kontant", "kontanter", "change", "byttepenge", "veksel", "tilbake", "vaxel", "tendered",
        "payment", "paid", "betalt", "card", "kort", "visa", "mastercard", "dankort", "rest de plata",
        "kateinen", "vaihtoraha", "numerar", "change due", "cash tendered", "tunai", "baki", "rest",
        "retur", "kreditkort", "betalingskort", "bankkort", "maksukortti", "card payment", "debit",
        "credit", "mobilepay", "vipps", "swish", "amex", "master", "terminal", "rabat", "rabatt", "discount",
        "alennus", "reducere", "disc", "voucher", "deposit", "accepted", "accepted total", "received",
        "amount tendered", "amount received", "cash received", "paid amount", "tender", "refund",
        "auth", "auth code", "godkendt", "godkjent", "ref", "reference", "ref nr", "aid", "atc", "tvr", "tsi", "psn",
        "kortnr", "kortnummer", "card no", "approval code", "app code", "trace", "stan", "batch", "merchant id",
        "terminal id", "butiksnr", "butikk nr", "kasse nr", "kassanr", "transaktion", "trans",
        "kortti", "pankkikortti", "luottokortti", "korttimaksu", "kortbetalning", "kort betalning",
        "aut", "aut kode", "autkode", "autorisation", "autorisationskode", "godkendelseskode", "term", "term nr",
        "auth no", "approval", "appr code", "bax", "tx", "txn", "seq", "sekv", "kvitt nr",
        # Malay: payment, cash, card, discount, change given
        "bayaran", "bayaran tunai", "wang tunai", "kad kredit", "kad debit", "diskaun", "potongan",
        "baki wang", "wang baki", "dibayar", "jumlah dibayar", "jumlah bayaran", "jumlah tunai",
    ]},
    "ID": {
        "cvr": ["cvr", "cvr nr", "cvr nummer", "se nr", "moms nr", "momsnr", "momsreg", "momsreg nr",
                "momsregistreringsnummer", "momsregnr"],
        "orgnr": ["org nr", "orgnr", "org nummer", "organisasjonsnummer", "organisationsnummer", "org no",
                  "foretaksregisteret", "organisasjonsnr", "org", "orgnummer", "foretaksnummer",
                  "organization number", "organisation number", "org nr mva", "org nr  mva"],
        "vat": ["vat", "vat no", "vat nr", "vat number", "vat reg", "vat reg no", "vat id", "mva nr",
                "mva", "momsregistreringsnr", "vat registration", "eu vat"],
        "ytunnus": ["y tunnus", "ytunnus", "alv nro", "alv rek", "alv numero", "y tunnus alv", "alv tunniste",
                    "ly tunnus"],
        "cui": ["cui", "cif", "c i f", "c u i", "cod fiscal", "cod identificare fiscala", "cod unic",
                "cod unic de inregistrare", "cod fiscal cif", "nr reg com", "atribut fiscal"],
        "gst": ["gst reg no", "gst reg", "gst id", "gst no", "gst registration", "gst registration no",
                "gst reg number", "gst id no", "gst number", "gst reg id", "gst registration number",
                "gstreg no", "gst regno", "gst id no", "id gst", "no id gst", "gst reg no", "gst registration no"],
        "company_reg": ["company reg no", "company no", "co reg no", "co no", "roc no", "reg no",
                        "business reg no", "registration no", "company registration no"],
    },
    "BUYER": {"buyer": [
        "kunde", "customer", "kober", "kund", "asiakas", "client", "cumparator", "buyer", "bill to", "sold to",
        "faktureres til", "faktureringsadresse", "leveringsadresse", "fakturaadress", "ship to",
        "laskutusosoite", "beneficiar", "kjoper", "kundens",
        "kunden", "leveres til", "deliver to", "invoice to", "kundenummer", "kundenr", "customer no",
        "cumparatorul", "clientul", "asiakkaan", "ostaja", "koper", "kopare",
    ]},
    "SELLER": {"seller": [
        "seller", "salger", "leverandor", "supplier", "furnizor", "vendor", "myyja", "saljare", "selger",
        "forhandler", "sold by", "solgt af", "saljs av", "merchant",
    ]},
    "RECEIPT_NO": {
        "strong": [
            "kvitteringsnr", "kvittering nr", "kvitteringsnummer", "kvit nr", "bon nr", "bonnr", "kvittonr",
            "kvitto nr", "kvittonummer", "kuittinro", "kuitti nro", "kuitin numero", "kuitti nr", "nr bon",
            "numar bon", "faktura nr", "fakturanr", "fakturanummer", "invoice no", "invoice nr",
            "invoice number", "receipt no", "receipt number", "receipt nr", "bill no", "doc no",
            "document no", "laskun nro", "laskun nr", "lasku nr", "laskun numero", "laskunro", "lasku nro", "numar factura",
            "factura nr", "nr factura", "trans no", "transaction no", "ref no", "inv no", "slip no",
            "receipt id", "bon fiscal nr", "nr doc", "bill number", "cash bill no", "cb no", "no resit",
            "transaktion", "transaktionsnr", "trans nr", "bilagsnr", "bilag nr",
            "bilagsnummer", "kvitteringsnr", "salgsnr", "kuittinumero",
            "tax invoice no", "official receipt no", "or no", "docket no", "check no",
        ],
        # an order number: a receipt number only when nothing better is printed
        "order": [
            "ordrenr", "ordrenummer", "ordernr", "ordernummer", "order no", "order nr", "order number", "ordre nr",
            "tilausnumero", "tilausnro", "tilaus nro", "bestillingsnr", "bestillingsnummer", "bestallningsnummer",
            "numar comanda", "nr comanda", "comanda nr", "order id", "ordre id", "web order",
        ],
    },
    "SERIAL": {"serial": [
        "s n", "sn", "serial", "serial no", "serial number", "serienr", "serienummer", "serie nr", "sarjanumero",
        "sarja nro", "sarjanro", "seria", "serie", "nr serie", "numar serie", "snr", "serial nr", "ser no",
        "serienumber", "s nr", "seria nr",
    ]},
    "ORDER_CONF": {"order_confirmation": [
        "ordrebekraftelse", "ordrebekreftelse", "orderbekraftelse", "tilausvahvistus", "order confirmation",
        "confirmare comanda", "confirmarea comenzii", "confirmare a comenzii", "tak for din ordre",
        "takk for din ordre", "takk for bestillingen", "tak for din bestilling", "tack for din order",
        "tack for din bestallning", "kiitos tilauksestasi", "thank you for your order", "order confirmed",
        "bestillingsbekreftelse", "bestillingsbekraftelse", "multumim pentru comanda", "orderbekraftelse",
        "tak for din bestilling", "din ordre er modtaget", "din bestilling", "vi har modtaget din ordre",
        "vi har mottatt din bestilling", "your order has been received", "tilauksesi", "comanda ta",
        "order summary", "bestallningsbekraftelse", "tilausvahvistuksen", "comanda dumneavoastra",
    ]},
    "INVOICE": {"invoice": [
        "faktura", "invoice", "tax invoice", "factura", "factura fiscala", "lasku", "kreditnota", "proforma",
        "simplified tax invoice",
    ]},
    "RECEIPT": {"receipt": [
        "kvittering", "kvitto", "kuitti", "receipt", "bon fiscal", "kassekvittering", "kasse", "kassa",
        "cashier", "kasserer", "kassor", "kassaaja", "casier", "bonul fiscal", "cash bill", "official receipt",
        "salgskvittering", "kopi kvittering", "betjent af", "betjent av", "expedit", "operator",
    ]},
    "CONDITION": {
        "used": ["brugt", "brugte", "begagnad", "begagnat", "brukt", "kaytetty", "used", "second hand",
                 "secondhand", "pre owned", "preowned", "folosit", "2 hand", "2nd hand", "kaytetyt"],
        "demo": ["demo", "demovare", "demoexemplar", "demomodel", "udstillingsmodel", "udstillingsvare",
                 "utstillingsmodell", "utstillingsvare", "demonstrationsex", "esittelykappale", "esittelylaite",
                 "produs de expozitie", "display model", "ex demo", "b vare", "b vara", "demovara",
                 "demoprodukt", "utstallningsex", "utstallningsexemplar", "expozitie", "demo unit"],
        "refurbished": ["refurbished", "renoveret", "renoverad", "refurb", "reconditionat", "kunnostettu",
                        "fabriksrenoveret", "oppusset", "renovert", "reconditioned", "remanufactured"],
        "returned": ["returvare", "returvara", "resigilat", "open box", "palautettu", "returprodukt",
                     "returneret vare", "returnert vare", "returned item", "open box"],
    },
    "OTHER_DATE": {"other": [
        "forfaldsdato", "forfald", "due date", "betalingsfrist", "forfallsdato", "forfallsdatum", "erapaiva",
        "scadenta", "data scadentei", "valid until", "gyldig til", "giltig till", "return by", "expiry", "exp",
        "best before", "garanti til", "warranty until", "bytte til", "byttes senest", "voimassa", "termen",
        "print date", "printed", "udskrevet", "utskrevet",
        "valid till", "valid thru", "valid through", "expires", "exp date", "expiry date", "due on", "due by",
        "redeem by", "use by", "member since", "reprint", "reprinted", "printed on", "tarikh luput",
        "sah sehingga", "sah hingga", "tamat tempoh",
    ]},
    "MODEL": {"model": [
        "model", "modell", "malli", "model no", "model name", "modelnr", "modellnr", "type", "typ", "tyyppi",
        "varenavn", "produkt", "product", "artikel", "artikkel", "vare", "tuote", "produs", "articol",
    ]},
    "PHONE": {"phone": [
        "tel", "tlf", "telefon", "phone", "fax", "puh", "mob", "mobil", "telephone", "hp", "tel no",
        "telefonnummer", "tlf nr", "puhelin", "mobile", "whatsapp",
    ]},
}


@dataclass(frozen=True)
class Cue:
    label: str
    id: str
    start: int  # character offsets in the original text
    end: int
    text: str


_NONWORD = re.compile(r"[^0-9a-z]")


_SLIPS = {"0": "o", "1": "l", "5": "s", "8": "b"}
_SHORT_SLIPS = {"0": "o", "1": "i", "5": "s", "8": "b"}


def prepare(text: str) -> tuple[str, list[int]]:
    """Fold `text` for cue matching; return the folded text and, for each of its
    characters, the index of the original character it came from."""
    f = fold_text(text)
    # the "I" of a short word read as a bar, "1", "!" or "l" ("| ALT DKK 10.597,00", "1 alt"):
    # Danish "I alt" (in all) is the commonest total label that starts with a lone "I"
    f = _LONE_I.sub("i", f)
    # digit slips inside words: "t0tal" -> "total", "1alt"? (only when the token has >= 2 letters)
    chars = list(f)
    for m in re.finditer(r"[0-9a-z]+", f):
        tok = m.group(0)
        letters = sum(c.isalpha() for c in tok)
        digits = len(tok) - letters
        if letters >= 2 and 0 < digits <= 1 or (letters >= 1 and digits == 1 and len(tok) <= 3):
            table = _SHORT_SLIPS if len(tok) <= 3 else _SLIPS
            for i in range(m.start(), m.end()):
                chars[i] = table.get(chars[i], chars[i])
    # dotted abbreviations read with a digit for a letter: "C.1.F." -> "c.i.f."
    for m in _ABBREV.finditer(f):
        run = m.group(0)
        if sum(c.isalpha() for c in run) >= 2:
            for i in range(m.start(), m.end()):
                if f[i].isdigit():
                    chars[i] = _SHORT_SLIPS.get(f[i], f[i])
    f = "".join(chars)
    src = list(range(len(f)))  # index in `text` of each character of `f`
    # a label glued to its number ("nro5793-8974", "sn85258362"): split them
    glued = [m.end(1) for m in _GLUED.finditer(f)]
    if glued:
        for k in reversed(glued):
            f = f[:k] + " " + f[k:]
            src = src[:k] + [src[k]] + src[k:]
    # one-letter OCR slips in label words ("involce" -> "invoice", "cashler" -> "cashier");
    # in long words also one letter too many or too few ("ordrebekreeftelse": "æ" read "ee")
    vocab, masks = _vocab()
    if masks:
        out_c: list[str] = []
        out_s: list[int] = []
        pos = 0
        for m in re.finditer(r"[a-z]{5,}", f):
            out_c += list(f[pos:m.start()])
            out_s += src[pos:m.start()]
            pos = m.end()
            tok = m.group(0)
            tok_src = src[m.start():m.end()]
            fix = _fix_label_word(tok, vocab, masks)
            if fix is None:
                out_c += list(tok)
                out_s += tok_src
            elif len(fix) == len(tok):
                out_c += list(fix)
                out_s += tok_src
            elif len(fix) == len(tok) - 1:  # one letter dropped
                k = next((i for i in range(len(fix)) if fix[i] != tok[i]), len(fix))
                out_c += list(fix)
                out_s += tok_src[:k] + tok_src[k + 1:]
            else:  # one letter added
                k = next((i for i in range(len(tok)) if fix[i] != tok[i]), len(tok))
                out_c += list(fix)
                out_s += tok_src[:k] + [tok_src[min(k, len(tok) - 1)]] + tok_src[k:]
        out_c += list(f[pos:])
        out_s += src[pos:]
        f, src = "".join(out_c), out_s
    out: list[str] = []
    idx: list[int] = []
    prev_space = True
    for i, c in enumerate(f):
        if _NONWORD.match(c):
            if not prev_space:
                out.append(" ")
                idx.append(src[i])
                prev_space = True
        else:
            out.append(c)
            idx.append(src[i])
            prev_space = False
    if out and out[-1] == " ":
        out.pop()
        idx.pop()
    return "".join(out), idx


_LONE_I = re.compile(r"(?<![0-9a-z|!.,])[|!l1](?= ?alt(?![a-z]))")
_GLUED = re.compile(r"(?<![0-9a-z])([a-z]{2,})(?=[0-9]{3,}(?:[^0-9a-z]|$))")
_ABBREV = re.compile(r"(?<![0-9a-z])(?:[0-9a-z]\.){2,}[0-9a-z]?(?![0-9a-z])")

#: label words this long may also be corrected for one letter too many or too few
_INDEL_MIN = 8


def _fix_label_word(tok: str, vocab: frozenset[str], masks: dict[str, str]) -> str | None:
    """The label word `tok` was probably meant to be (one OCR slip away), or None."""
    if tok in vocab or tok in _REAL_WORDS:
        return None
    fixes = {masks.get(tok[:i] + "?" + tok[i + 1:]) for i in range(len(tok))} - {None}
    if len(fixes) == 1:
        fix = fixes.pop()
        return fix if fix is not None and fix != "*" else None
    if fixes or len(tok) < _INDEL_MIN - 1:
        return None
    cands: set[str] = set()
    if len(tok) >= _INDEL_MIN + 1:
        cands |= {tok[:i] + tok[i + 1:] for i in range(len(tok))} & vocab
    if len(tok) >= _INDEL_MIN - 1:
        cands |= {w for w in (masks.get(tok[:i] + "?" + tok[i:]) for i in range(len(tok) + 1))
                  if w is not None and w != "*" and len(w) >= _INDEL_MIN}
    return cands.pop() if len(cands) == 1 else None


# ordinary words one letter away from a label word: never "corrected"
_REAL_WORDS = frozenset({"kunne", "kunna", "kunde", "tilal", "hotel", "motel", "datum", "sende", "serie"})


@lru_cache(maxsize=1)
def _vocab() -> tuple[frozenset[str], dict[str, str]]:
    """Label words of 5+ letters, and their one-letter-wildcard masks (a mask shared
    by two words maps to "*": ambiguous, not corrected)."""
    words: set[str] = set()
    for groups in PATTERNS.values():
        for phrases in groups.values():
            for ph in phrases:
                words.update(w for w in re.findall(r"[a-z]+", ph) if len(w) >= 5)
    masks: dict[str, str] = {}
    for w in words:
        for i in range(len(w)):
            k = w[:i] + "?" + w[i + 1:]
            masks[k] = w if masks.get(k, w) == w else "*"
    return frozenset(words), masks


@lru_cache(maxsize=1)
def get_nlp() -> Any:
    """The cue pipeline: spacy.blank("xx") + EntityRuler (built once per process)."""
    import spacy

    nlp = spacy.blank("xx")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True})
    pats: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for label, groups in PATTERNS.items():
        for gid, phrases in groups.items():
            for ph in phrases:
                ph2, _ = prepare(ph)
                if not ph2 or (label, ph2) in seen:
                    continue
                seen.add((label, ph2))
                pats.append({"label": label, "pattern": ph2, "id": gid})
    ruler.add_patterns(pats)  # type: ignore[attr-defined]
    log.debug("cue pipeline built with %d patterns", len(pats))
    return nlp


@lru_cache(maxsize=4096)
def find_cues(text: str) -> tuple[Cue, ...]:
    """All label cues in `text` (longest match wins where patterns overlap)."""
    if not text or not text.strip():
        return ()
    folded, idx = prepare(text)
    if not folded:
        return ()
    doc = get_nlp()(folded)
    out: list[Cue] = []
    for ent in doc.ents:
        s = idx[ent.start_char]
        e = idx[ent.end_char - 1] + 1
        out.append(Cue(label=ent.label_, id=ent.ent_id_ or "", start=s, end=e, text=text[s:e]))
    return tuple(out)


def has_cue(text: str, label: str, cue_id: str | None = None) -> bool:
    return any(c.label == label and (cue_id is None or c.id == cue_id) for c in find_cues(text))


def cues_of(text: str, label: str) -> list[Cue]:
    return [c for c in find_cues(text) if c.label == label]
