"""Helpers of the CLI tests: run the click group, write a tiny given split with planted structure."""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np
from click.testing import CliRunner, Result

from recgen.cli.main import cli


def run(*args: str, ok: bool = True, env: dict[str, str] | None = None) -> Result:
    """Invoke ``recgen ARGS`` in-process; with ``ok`` assert exit 0 and show the traceback otherwise."""
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=True)
    if ok and result.exit_code != 0:
        tb = "".join(traceback.format_exception(*result.exc_info)) if result.exc_info else ""
        raise AssertionError(f"recgen {' '.join(map(str, args))} exited {result.exit_code}:\n{result.output}\n{tb}")
    return result


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """Exit code 2, a single ``error: ...`` line on stderr naming ``fragments``, and no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def write_given_split(directory: Path, *, n_users: int = 90, n_items: int = 45, n_blocks: int = 3,
                      seed: int = 0) -> dict[str, dict[str, list[str]]]:
    """Write train.txt / valid.txt / test.txt (``user item item ...``) with block structure.

    User u likes the items of block u % n_blocks (60 %) plus a little noise; each user's items are split
    60/10/30 at random. Raw ids are offset (users 1000+, items 500+) so that ids never equal indices.
    Every item appears in train. Returns the parts as {part: {user: [items]}}.
    """
    rng = np.random.default_rng(seed)
    parts: dict[str, dict[str, list[str]]] = {"train": {}, "valid": {}, "test": {}}
    for u in range(n_users):
        own = np.flatnonzero(np.arange(n_items) % n_blocks == u % n_blocks)
        liked = own[rng.random(len(own)) < 0.6]
        noise = rng.choice(n_items, size=2, replace=False)
        items = rng.permutation(np.unique(np.r_[liked, noise]))
        n_test, n_val = max(1, int(0.3 * len(items))), max(1, int(0.1 * len(items)))
        cut = {"test": items[:n_test], "valid": items[n_test:n_test + n_val], "train": items[n_test + n_val:]}
        for part, its in cut.items():
            if len(its):
                parts[part][str(1000 + u)] = [str(500 + i) for i in sorted(its)]
    # every item in train: give user 1000 any item missing from train
    seen = {i for its in parts["train"].values() for i in its}
    missing = [str(500 + i) for i in range(n_items) if str(500 + i) not in seen]
    parts["train"]["1000"] = sorted(set(parts["train"].get("1000", [])) | set(missing), key=int)
    for part in ("valid", "test"):
        parts[part]["1000"] = [i for i in parts[part].get("1000", []) if i not in parts["train"]["1000"]]
    directory.mkdir(parents=True, exist_ok=True)
    for part, rows in parts.items():
        lines = [" ".join([u, *its]) for u, its in rows.items() if its]
        (directory / f"{part}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return parts
