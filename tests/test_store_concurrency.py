"""Two workers screen two claims with the same serial at the same moment:
exactly one stays approve, the other becomes review with
SERIAL_ALREADY_CLAIMED. And two workers recording the same claimant's fifth
and sixth claim at once: one approve, one reject (CLAIMANT_LIMIT_REACHED).
Two processes (spawn), released together by a multiprocessing.Barrier before
every round, against SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

from models.verdict import Status
from pipeline.campaigns import get_campaign
from pipeline.store import Store
from tests.test_store import SIGMA_2022, db_url, make_claim, make_verdict  # noqa: F401 - db_url is a fixture

ROUNDS = 6
WORKERS = 2


def _limit_claim(rnd: int, n: int, worker: int = 0) -> Any:
    """The n-th claim of round rnd's claimant (one claimant per round, distinct serials)."""
    return make_claim(f"l{rnd}-{n}-w{worker}", get_campaign(SIGMA_2022), serial=f"88{rnd:02d}{n:02d}{worker}",
                      email=f"limit.{rnd}@example.org", iban=None, name=f"Limit {rnd}", minutes=n)


def _worker(url: str, worker: int, barrier: Any, out: Any, mode: str = "serial") -> None:
    try:
        campaign = get_campaign(SIGMA_2022)
        store = Store(url)
        results = []
        for rnd in range(ROUNDS):
            if mode == "serial":
                # different claimants, different claims, the same serial
                serial = f"77{rnd:06d}"
                claim = make_claim(f"r{rnd}-w{worker}", campaign, serial=serial, email=f"w{worker}-r{rnd}@example.org",
                                   iban=None, name=f"Worker {worker}")
            else:
                # the same claimant's 5th and 6th claims, different serials
                claim = _limit_claim(rnd, 10, worker)
                serial = claim.declared.serial_number
            verdict = make_verdict(claim, Status.APPROVE)
            barrier.wait(timeout=60)
            stored = store.record(claim, campaign, verdict, serial=serial)
            results.append((rnd, claim.claim_id, stored.status.value, [r.message for r in stored.reasons],
                            stored.codes))
        store.close()
        out.put((worker, results, None))
    except BaseException as exc:  # report, never hang the parent
        barrier.abort()
        out.put((worker, [], f"{type(exc).__name__}: {exc}"))


def _run(url: str, mode: str) -> dict[int, list[tuple[str, str, list[str], list[str]]]]:
    """Run the two workers; their results by round."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, w, barrier, out, mode)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    try:
        reports = [out.get(timeout=120) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    errors = [err for _, _, err in reports if err]
    assert not errors, errors
    by_round: dict[int, list[tuple[str, str, list[str], list[str]]]] = {}
    for _, results, _ in reports:
        for rnd, cid, status, messages, codes in results:
            by_round.setdefault(rnd, []).append((cid, status, messages, codes))
    assert sorted(by_round) == list(range(ROUNDS))
    return by_round


def test_same_serial_from_two_processes_gives_one_approval(db_url: str) -> None:  # noqa: F811
    setup = Store(db_url)
    setup.migrate()
    by_round = _run(db_url, "serial")
    try:
        for rnd, got in by_round.items():
            statuses = sorted(status for _, status, _, _ in got)
            assert statuses == ["approve", "review"], (rnd, got)
            winner = next(cid for cid, status, _, _ in got if status == "approve")
            loser, _, messages, codes = next(g for g in got if g[1] == "review")
            assert codes == ["SERIAL_ALREADY_CLAIMED"]
            assert f"claim {winner} " in messages[0]
            # what was returned is what is stored
            assert setup.current_verdict(winner).status == Status.APPROVE  # type: ignore[union-attr]
            assert setup.current_verdict(loser).status == Status.REVIEW  # type: ignore[union-attr]
    finally:
        setup.close()


def test_claim_limit_holds_across_two_processes(db_url: str) -> None:  # noqa: F811
    setup = Store(db_url)
    setup.migrate()
    campaign = get_campaign(SIGMA_2022)
    assert campaign.max_claims_per_claimant == 5
    for rnd in range(ROUNDS):
        for n in range(4):
            c = _limit_claim(rnd, n)
            assert setup.record(c, campaign, make_verdict(c), serial=c.declared.serial_number).status == Status.APPROVE
    by_round = _run(db_url, "limit")
    try:
        for rnd, got in by_round.items():
            assert sorted(status for _, status, _, _ in got) == ["approve", "reject"], (rnd, got)
            loser = next(g for g in got if g[1] == "reject")
            assert loser[3] == ["CLAIMANT_LIMIT_REACHED"]
            assert setup.current_verdict(loser[0]).status == Status.REJECT  # type: ignore[union-attr]
    finally:
        setup.close()
