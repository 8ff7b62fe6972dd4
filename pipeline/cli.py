"""The `claimcheck` command line. Exit codes (pipeline.errors.ExitCode):

0  done (every claim got a verdict; with --fail-on-flag: every claim approved)
1  --fail-on-flag and at least one claim was not approved
2  usage error
3  an input path could not be read
4  a campaign file is invalid
5  a dependency (tesseract) is missing
10 internal error
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from models.claim import Claim
from models.verdict import Status, Verdict
from pipeline.errors import ClaimcheckError, ClaimInputError, ExitCode

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Pre-screen cashback claims.")
campaigns_app = typer.Typer(no_args_is_help=True, help="List and check campaign files.")
samples_app = typer.Typer(no_args_is_help=True, help="Sample claims.")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(samples_app, name="samples")
claims_app = typer.Typer(no_args_is_help=True, help="Claims in the claims store (CLAIMCHECK_DATABASE_URL).")
app.add_typer(claims_app, name="claims")

log = logging.getLogger("claimcheck")

STATUS_STYLE = {Status.APPROVE: "green", Status.INCOMPLETE: "yellow", Status.REVIEW: "cyan", Status.REJECT: "red"}


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _claim_dirs(paths: list[Path]) -> list[Path]:
    """Each path is a claim folder, or a folder of claim folders."""
    out: list[Path] = []
    for p in paths:
        if not p.exists():
            raise ClaimInputError(f"{p}: no such file or folder")
        if p.is_dir() and not (p / "claim.json").exists():
            subs = sorted(d for d in p.iterdir() if d.is_dir())
            out.extend(subs if subs else [p])
        else:
            out.append(p)
    return out


def _print_table(verdicts: list[Verdict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="claimcheck verdicts")
    for col in ("claim", "campaign", "status", "cashback", "reasons"):
        table.add_column(col)
    for v in verdicts:
        amount = f"{v.cashback_amount} {v.cashback_currency}" if v.cashback_amount is not None else ""
        table.add_row(v.claim_id, v.campaign_id or "", f"[{STATUS_STYLE[v.status]}]{v.status.value}[/]", amount,
                      ", ".join(v.codes) or "-")
    Console().print(table)


def _print_explain(verdicts: list[Verdict]) -> None:
    """Why each claim got its verdict: the reasons, their clauses and where the evidence is."""
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    for v in verdicts:
        console.print(f"\n[bold]{v.claim_id}[/] [{STATUS_STYLE[v.status]}]{v.status.value}[/]"
                      + (f"  cashback {v.cashback_amount} {v.cashback_currency} (SKU {v.matched_sku})"
                         if v.cashback_amount is not None else ""))
        if v.reply_deadline:
            console.print(f"  reply by {v.reply_deadline}; missing: {', '.join(v.missing)}")
        for r in v.reasons:
            where = ""
            for ev in r.evidence[:1]:
                loc = f"{ev.document} p{ev.page}"
                if ev.box is not None:
                    loc += f" box {ev.box.x0:.0f},{ev.box.y0:.0f},{ev.box.x1:.0f},{ev.box.y1:.0f}"
                if ev.text:
                    loc += f' "{ev.text[:60]}"'
                where = f" [dim]{escape('[' + loc + ']')}[/]"
            clause = f" [dim]({escape(r.clause)})[/]" if r.clause else ""
            console.print(f"  [{STATUS_STYLE[r.status]}]{r.code}[/]: {escape(r.message)}{clause}{where}",
                          highlight=False)
        if not v.reasons:
            console.print("  every check passed")
        shown = [g for g in v.signals if g.flagged or g.score >= g.threshold / 2][:4]
        for g in shown:
            other = f", other claim {g.other_claim}" if g.other_claim else ""
            console.print(f"  [dim]signal {g.detector} {g.score:.2f} (flags at {g.threshold:.2f}{other}): "
                          f"{escape(g.message)}[/]", highlight=False)


def _write_verdict(out_dir: Path, v: Verdict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{v.claim_id}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(v.model_dump_json(indent=2))
    tmp.replace(path)
    return path


def _annotate(dirs: list[Path], verdicts: list[Verdict], out_dir: Path) -> None:
    """Receipt images with the evidence drawn, for every claim that is not a plain approval."""
    from pipeline.errors import ClaimInputError
    from pipeline.forensics.annotate import annotate_claim
    from pipeline.intake import load_claim

    by_id: dict[str, Path] = {}
    for d in dirs:
        try:
            by_id[load_claim(d).claim_id] = d
        except ClaimInputError:
            by_id.setdefault(d.name, d)
    for v in verdicts:
        if v.claim_id in by_id and (v.status != Status.APPROVE or any(g.flagged for g in v.signals)):
            annotate_claim(by_id[v.claim_id], v, out_dir)


@app.command()
def screen(
    claim_dirs: Annotated[list[Path], typer.Argument(help="claim folders, or folders of claim folders")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON verdict per line")] = False,
    out: Annotated[Path | None, typer.Option(help="also write <claim_id>.json verdicts here")] = None,
    workers: Annotated[int, typer.Option(help="processes (default: one per core)")] = 0,
    fail_on_flag: Annotated[bool, typer.Option(help="exit 1 unless every claim is approved")] = False,
    explain: Annotated[bool, typer.Option(help="after the table, each claim's reasons with clause and evidence")] = False,
    store: Annotated[bool, typer.Option(help="remember claims in the claims store (CLAIMCHECK_DATABASE_URL)")] = True,
    keep_images: Annotated[Path | None, typer.Option(help="keep preprocessed images here (evidence boxes refer to them)")] = None,
    annotate: Annotated[Path | None, typer.Option(help="write each flagged receipt here with its evidence and forensic regions drawn")] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose")] = False,
) -> None:
    """Screen claims and print their verdicts."""
    from pipeline.batch import RichProgress, default_workers, screen_many
    from pipeline.settings import Settings

    _setup_logging(verbose)
    dirs = _claim_dirs(claim_dirs)
    settings = Settings(keep_images_dir=keep_images, use_store=store)
    n = workers or default_workers()
    progress = RichProgress(len(dirs)) if len(dirs) > 1 and sys.stderr.isatty() else None
    verdicts = []
    try:
        for v in screen_many(dirs, settings, workers=n, progress=progress):
            verdicts.append(v)
            if out is not None:
                _write_verdict(out, v)
            if as_json:
                print(v.model_dump_json(), flush=True)
    finally:
        if progress is not None:
            progress.close()
    verdicts.sort(key=lambda v: v.claim_id)
    if annotate is not None:
        _annotate(dirs, verdicts, annotate)
    if not as_json:
        _print_table(verdicts)
        if explain:
            _print_explain(verdicts)
    if fail_on_flag and any(v.status != Status.APPROVE for v in verdicts):
        raise typer.Exit(ExitCode.CLAIMS_FLAGGED)


@app.command()
def extract(
    files: Annotated[list[Path], typer.Argument(help="receipt images or PDFs")],
    resellers: Annotated[Path | None, typer.Option(help="a plain list of names (one per line) or a reseller CSV")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines (the default output)")] = True,
    country: Annotated[str | None, typer.Option(help="ISO country the receipts come from")] = None,
    languages: Annotated[str, typer.Option(help="tesseract languages, e.g. eng+dan")] = "eng",
    engine: Annotated[str, typer.Option(help="tesseract or rapidocr")] = "tesseract",
    workers: Annotated[int, typer.Option(help="processes (default: one per core)")] = 0,
    forensics: Annotated[bool, typer.Option(help="also run the receipt forensics (signals in the output)")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose")] = False,
) -> None:
    """Extract the fields of loose receipts: one JSON line per input, naming its file."""
    from pipeline.batch import RichProgress, default_workers
    from pipeline.loose import ExtractJob, extract_many, load_reseller_names

    _setup_logging(verbose)
    names = load_reseller_names(resellers) if resellers else None
    paths: list[Path] = []
    for f in files:
        paths.extend(sorted(p for p in f.iterdir() if p.is_file()) if f.is_dir() else [f])
    job = ExtractJob(country=country, languages=tuple(languages.split("+")), engine=engine, names=names,
                     forensics=forensics)
    progress = RichProgress(len(paths), "extracting") if len(paths) > 1 and sys.stderr.isatty() else None
    try:
        for line in extract_many(paths, job, workers=workers or default_workers(), progress=progress):
            print(json.dumps(line, ensure_ascii=False), flush=True)
    finally:
        if progress is not None:
            progress.close()


@app.command()
def run(
    inbox: Annotated[Path, typer.Option(help="folder of submitted claim folders")] = Path("data/inbox"),
    out: Annotated[Path, typer.Option(help="folder for verdict JSON files")] = Path("data/verdicts"),
    rescreen: Annotated[bool, typer.Option(help="screen claims that already have a verdict again")] = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose")] = False,
) -> None:
    """Run the Prefect flow over an inbox (serverless unless PREFECT_API_URL is set)."""
    _setup_logging(verbose)
    from flows.screen_inbox import screen_inbox

    summary = screen_inbox(inbox=str(inbox), out=str(out), rescreen=rescreen)
    typer.echo(json.dumps(summary, indent=2))


def _register_eval() -> None:
    from pipeline.eval.cli import eval_command

    app.command("eval", help="Score the pipeline on a labelled set (SROIE format or generated claims).")(eval_command)


_register_eval()


@app.command()
def schema() -> None:
    """Print the JSON Schema of claim.json."""
    typer.echo(json.dumps(Claim.model_json_schema(), indent=2))


def _store():  # type: ignore[no-untyped-def]
    from pipeline.settings import Settings
    from pipeline.store import Store, default_url

    store = Store(Settings().database_url or default_url())
    store.migrate()
    return store


@claims_app.command("history")
def claims_history(claim_id: str) -> None:
    """Every verdict the claim has had, oldest first (JSON lines)."""
    with _store() as store:
        history = store.verdict_history(claim_id)
    if not history:
        raise ClaimInputError(f"no verdicts for claim {claim_id} in the claims store")
    for v in history:
        typer.echo(v.model_dump_json())


@claims_app.command("mark-fraud")
def claims_mark_fraud(
    claim_id: str,
    note: Annotated[str, typer.Option(help="for handlers; keep personal data out of it")] = "",
) -> None:
    """Mark a claim as judged fraudulent: the claimant's later claims go to review (SIGMA 15 (iii))."""
    from pipeline.store import StoreError

    try:
        with _store() as store:
            store.mark_fraud(claim_id, note)
    except StoreError as exc:
        raise ClaimInputError(exc.message) from None
    typer.echo(f"claim {claim_id} marked as fraudulent")


@campaigns_app.command("list")
def campaigns_list() -> None:
    """List the configured campaigns."""
    from pipeline.campaigns import load_campaigns

    for c in load_campaigns().values():
        example = " (example lists)" if any(s.example for s in c.skus) or any(r.example for r in c.resellers) else ""
        typer.echo(f"{c.id}\t{c.purchase_start}..{c.purchase_end}\t{len(c.skus)} SKUs\t{len(c.resellers)} resellers{example}")


@campaigns_app.command("check")
def campaigns_check(paths: Annotated[list[Path] | None, typer.Argument()] = None) -> None:
    """Validate campaign files (all of reference_data/campaigns by default)."""
    from pipeline.campaign_check import check_campaign_files

    problems = check_campaign_files(paths or None)
    for p in problems:
        typer.echo(p, err=True)
    if problems:
        raise typer.Exit(ExitCode.CONFIG_ERROR)
    typer.echo("campaign files OK")


@samples_app.command("generate")
def samples_generate(
    out: Annotated[Path, typer.Argument(help="folder for the labelled claims")],
    n: Annotated[int, typer.Option("--n", help="number of claims")] = 300,
    seed: Annotated[int, typer.Option(help="same seed, same bytes")] = 7,
    alter_stage: Annotated[str, typer.Option(
        "--alter-stage", help="render: pixel edits on the flat page, then photographed/scanned; "
                              "final: the same edits on the finished image, re-saved like an image editor")] = "render",
) -> None:
    """Generate a labelled claim set (layouts, languages, degradations, altered copies): docs/dataset_format.md."""
    from pipeline.samples.generator import ALTER_STAGES, generate_dataset

    if alter_stage not in ALTER_STAGES:
        typer.echo(f"--alter-stage must be one of {', '.join(ALTER_STAGES)}", err=True)
        raise typer.Exit(ExitCode.USAGE)
    folders = generate_dataset(out, n=n, seed=seed, alter_stage=alter_stage)
    typer.echo(f"{len(folders)} claims in {out}")


@samples_app.command("make")
def samples_make(out: Annotated[Path, typer.Argument()] = Path("sample_receipts"), seed: int = 2022) -> None:
    """(Re)generate the sample claims."""
    from pipeline.samples import generate_sample_claims

    for p in generate_sample_claims(out, seed=seed):
        typer.echo(str(p))


def main() -> None:
    try:
        app()
    except ClaimcheckError as exc:
        typer.echo(f"claimcheck: {exc.message}", err=True)
        sys.exit(int(exc.exit_code))


if __name__ == "__main__":
    main()
