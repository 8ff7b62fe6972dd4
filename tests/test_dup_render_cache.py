"""pipeline.render.render_file decodes a file once for the stages of a claim
(a small cache keyed by the file's bytes); every caller gets its own pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import pipeline.render as render
from pipeline.errors import FileRejected


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    render._render_cache.clear()


def _png(path: Path, value: int) -> Path:
    img = np.full((40, 60, 3), value, np.uint8)
    img[10:20, 10:50] = 255 - value
    cv2.imwrite(str(path), img)
    return path


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = render.load_image
    monkeypatch.setattr(render, "load_image", lambda p: calls.append(1) or real(p))
    return calls


def test_a_file_is_decoded_once_and_each_caller_gets_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch)
    p = _png(tmp_path / "r.png", 30)
    a = render.render_file(p, "png")[0].image
    b = render.render_file(p, "png")[0].image
    assert len(calls) == 1
    assert a is not None and b is not None and np.array_equal(a, b)
    b[:] = 0  # a caller drawing on its pixels changes no one else's
    c = render.render_file(p, "png")[0].image
    assert c is not None and np.array_equal(c, a) and len(calls) == 1


def test_new_bytes_at_the_same_path_are_decoded_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch)
    p = _png(tmp_path / "r.png", 30)
    first = render.render_file(p, "png")[0].image
    _png(p, 200)
    second = render.render_file(p, "png")[0].image
    assert len(calls) == 2
    assert first is not None and second is not None and not np.array_equal(first, second)


def test_only_the_last_files_are_kept(tmp_path: Path) -> None:
    for i in range(render.RENDER_CACHE_FILES + 2):
        render.render_file(_png(tmp_path / f"r{i}.png", 10 * i), "png")
    assert len(render._render_cache) == render.RENDER_CACHE_FILES


def test_bad_input_still_gives_a_clear_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    for _ in range(2):
        with pytest.raises(FileRejected):
            render.render_file(bad, "png")
    with pytest.raises(FileRejected):
        render.render_file(tmp_path / "missing.png", "png")
    with pytest.raises(FileRejected):
        render.render_file(bad, "gif")
