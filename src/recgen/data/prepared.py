"""Prepared dataset directories: read → preprocess → split → save, and load them back.

Layout of a prepared directory (every file deterministic: same inputs → byte-identical files)::

    manifest.json      format, format_version, recgen_version, the caller's manifest (e.g. command),
                       and "split": the split's meta (protocol, parameters, seed, counts, source files
                       with sha256, preprocessing reports)
    users.json         {"train": [...], "val": [...] | null, "test": [...]}: raw user ids per part
    items.json         the item universe (raw ids, column order)
    train.safetensors  indptr, indices, data [, times]
    val.safetensors    rows, layout, target_{indptr,indices,data}, and input_* / exclude_* or
                       exclude_extra_* (see _evalset_arrays: input is not repeated when it is the
                       users' train rows)                                   (absent when there is no val)
    test.safetensors   same as val
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

import recgen
from recgen._io import atomic_dir, load_arrays, read_json, save_arrays, sha256_file, write_json
from recgen.data.dataset import EvalSet, Split
from recgen.data.interactions import DuplicatePolicy, Interactions
from recgen.data.splits import given_split, heldout_users_split, random_split
from recgen.data.splits_time import leave_last_k_split, time_cutoff_split
from recgen.data.vocabulary import Vocabulary
from recgen.errors import ArtifactError, ConfigError, DataFormatError, RecgenError, suggest

log = logging.getLogger(__name__)

FORMAT = "recgen-prepared-split"
FORMAT_VERSION = 1
SPLITS = ("given", "heldout-users", "random", "leave-last", "time")
GIVEN_ROLES = {"train": ("train",), "valid": ("valid", "val", "validation"), "test": ("test",)}
GIVEN_SUFFIXES = (".txt", ".csv", ".tsv", ".parquet", ".dat", "")
PathLike = str | os.PathLike[str]


def jsonable(obj: Any) -> Any:
    """Plain JSON types (numpy scalars → Python, tuples → lists, dataclasses → dicts)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return obj


# ---------------------------------------------------------------------- save / load
def _csr_arrays(prefix: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    return {f"{prefix}indptr": np.asarray(m.indptr, dtype=np.int64),
            f"{prefix}indices": np.asarray(m.indices, dtype=np.int32),
            f"{prefix}data": np.asarray(m.data, dtype=np.float32)}


def _same_csr(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return a.shape == b.shape and a.nnz == b.nnz and all(
        np.array_equal(x, y) for x, y in ((a.indptr, b.indptr), (a.indices, b.indices), (a.data, b.data)))


def _pattern(m: sp.csr_matrix) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(m.nnz, dtype=np.float32), m.indices, m.indptr), shape=m.shape)


def _evalset_arrays(ev: EvalSet, train: sp.csr_matrix) -> dict[str, np.ndarray]:
    """Arrays of an EvalSet, without repeating what the train matrix already holds.

    ``layout[0] = 1``: ``input`` is the users' train rows and is not stored. ``layout[1] = 1``: only
    ``exclude_extra`` = exclude − input is stored (exclude is binary and ⊇ input, as every split makes
    it). Otherwise the full matrix is stored. For a given split of ML-1M this shrinks the directory 5×.
    """
    arrays = {"rows": np.asarray(ev.rows, dtype=np.int64), **_csr_arrays("target_", ev.target)}
    from_train = bool(len(ev.rows)) and bool((ev.rows >= 0).all()) and _same_csr(ev.input, train[ev.rows])
    if not from_train:
        arrays.update(_csr_arrays("input_", ev.input))
    extra = (_pattern(ev.exclude) - _pattern(ev.input)).tocsr()
    as_extra = bool((ev.exclude.data == 1).all()) and bool((extra.data >= 0).all())
    if as_extra:
        extra.eliminate_zeros()
        extra.sort_indices()
        arrays.update(_csr_arrays("exclude_extra_", extra))
    else:
        arrays.update(_csr_arrays("exclude_", ev.exclude))
    arrays["layout"] = np.array([int(from_train), int(as_extra)], dtype=np.int64)
    return arrays


def _load_evalset(a: dict[str, np.ndarray], users: Vocabulary, train: sp.csr_matrix, n_items: int) -> EvalSet:
    shape = (len(users), n_items)
    rows = a["rows"]
    if len(rows) != shape[0] or (len(rows) and (rows.min() < -1 or rows.max() >= train.shape[0])):
        raise ValueError(f"rows ({len(rows)} entries) do not fit {shape[0]} users and {train.shape[0]} training rows")
    from_train, as_extra = (int(x) for x in a["layout"])
    target = _checked_csr(a["target_data"], a["target_indices"], a["target_indptr"], shape)
    if from_train:
        if len(rows) and rows.min() < 0:
            raise ValueError("input is stored as training rows but some rows are -1")
        inp = sp.csr_matrix(train[rows], shape=shape)
    else:
        inp = _checked_csr(a["input_data"], a["input_indices"], a["input_indptr"], shape)
    if as_extra:
        extra = _checked_csr(a["exclude_extra_data"], a["exclude_extra_indices"], a["exclude_extra_indptr"], shape)
        exclude = (_pattern(inp) + extra).tocsr()
        exclude.sort_indices()
    else:
        exclude = _checked_csr(a["exclude_data"], a["exclude_indices"], a["exclude_indptr"], shape)
    return EvalSet(users, inp, target, exclude.astype(np.float32), rows)


def save_split(split: Split, out: PathLike, *, manifest: dict[str, Any]) -> Path:
    """Write ``split`` to the directory ``out`` atomically (replacing it) and return its path.

    ``manifest`` holds the caller's extra fields (e.g. ``command``: the ``recgen data prepare`` line that
    made it, without ``--out``; error messages suggest re-running it); the keys ``format``,
    ``format_version``, ``recgen_version`` and ``split`` (= ``split.meta``) are set here. No file holds
    a timestamp or the output path, so the same split always gives byte-identical files.
    """
    out = Path(out)
    doc = {**jsonable(manifest), "format": FORMAT, "format_version": FORMAT_VERSION,
           "recgen_version": recgen.__version__, "split": jsonable(split.meta)}
    with atomic_dir(out) as tmp:
        tr = split.train
        arrays = _csr_arrays("", tr.matrix)
        if tr.times is not None:
            arrays["times"] = np.asarray(tr.times.data, dtype=np.float64)
        save_arrays(tmp / "train.safetensors", arrays)
        for role, ev in (("val", split.val), ("test", split.test)):
            if ev is None:
                continue
            save_arrays(tmp / f"{role}.safetensors", _evalset_arrays(ev, tr.matrix))
        write_json(tmp / "users.json", {"train": tr.users.to_list(),
                                        "val": split.val.users.to_list() if split.val is not None else None,
                                        "test": split.test.users.to_list()})
        write_json(tmp / "items.json", tr.items.to_list())
        write_json(tmp / "manifest.json", doc)
        # mkdtemp makes the directory private; a prepared dataset is meant to be shared and read
        for f in tmp.iterdir():
            f.chmod(0o644)
        tmp.chmod(0o755)
    log.info("saved split to %s", out)
    return out


def _fix(directory: Path, manifest: dict[str, Any] | None) -> str:
    cmd = (manifest or {}).get("command")
    if not (isinstance(cmd, str) and cmd):
        cmd = "recgen data prepare <source> ..."
    return f"re-run `{cmd} --out {directory}` to rebuild it"


def _checked_csr(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A CSR matrix whose structure is verified against ``shape`` (indices in range, indptr consistent)."""
    if len(indptr) != shape[0] + 1:
        raise ValueError(f"indptr has {len(indptr)} entries for {shape[0]} rows")
    m = sp.csr_matrix((data, indices, indptr), shape=shape)
    m.check_format(full_check=True)
    return m


def load_split(directory: PathLike) -> Split:
    """Load a directory written by :func:`save_split`; :class:`ArtifactError` if it is missing,
    incomplete, damaged or written by another format version."""
    d = Path(directory)
    if not d.is_dir():
        raise ArtifactError(f"directory={str(d)!r} does not exist or is not a directory; prepare it first with "
                            f"`recgen data prepare <source> ... --out {d}`.")
    if not (d / "manifest.json").is_file():
        raise ArtifactError(f"directory={str(d)!r} is not a prepared dataset (manifest.json is missing); "
                            f"{_fix(d, None)}.")
    manifest = read_json(d / "manifest.json")
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or version != FORMAT_VERSION:
        raise ArtifactError(
            f"directory={str(d)!r} was written with format version {version!r} (format "
            f"{manifest.get('format') if isinstance(manifest, dict) else None!r}); this recgen "
            f"({recgen.__version__}) reads {FORMAT!r} version {FORMAT_VERSION}; {_fix(d, manifest if isinstance(manifest, dict) else None)}.")
    users = read_json(d / "users.json") if (d / "users.json").is_file() else None
    has_val = isinstance(users, dict) and users.get("val") is not None
    needed = ["users.json", "items.json", "train.safetensors", "test.safetensors"] + (["val.safetensors"] if has_val else [])
    missing = [f for f in needed if not (d / f).is_file()]
    if missing:
        raise ArtifactError(f"directory={str(d)!r} is incomplete: missing {', '.join(missing)}; {_fix(d, manifest)}.")
    try:
        items = Vocabulary(read_json(d / "items.json"))
        train_users = Vocabulary(users["train"])
        a = load_arrays(d / "train.safetensors")
        shape = (len(train_users), len(items))
        m = _checked_csr(a["data"], a["indices"], a["indptr"], shape)
        t = sp.csr_matrix((a["times"], a["indices"], a["indptr"]), shape=shape) if "times" in a else None
        train = Interactions(m, train_users, items, t)
        sets: dict[str, EvalSet | None] = {"val": None}
        for role in ("val", "test") if has_val else ("test",):
            ev_users = Vocabulary(users[role])
            sets[role] = _load_evalset(load_arrays(d / f"{role}.safetensors"), ev_users, train.matrix, len(items))
    except (RecgenError, KeyError, ValueError, TypeError) as exc:
        raise ArtifactError(f"directory={str(d)!r} is damaged ({type(exc).__name__}: {exc}); {_fix(d, manifest)}.") from exc
    test = sets["test"]
    if test is None:  # unreachable: the loop above always loads test
        raise ArtifactError(f"directory={str(d)!r} has no test set; {_fix(d, manifest)}.")
    return Split(train, sets["val"], test, manifest.get("split", {}))


def read_manifest(directory: PathLike) -> dict[str, Any]:
    """The full ``manifest.json`` of a prepared directory."""
    return read_json(Path(directory) / "manifest.json")


# ---------------------------------------------------------------------- given files
def find_given_files(directory: PathLike) -> dict[str, Path]:
    """``{"train": ..., "valid": ..., "test": ...}`` (``valid`` optional) in a given-split directory."""
    d = Path(directory)
    if not d.is_dir():
        raise DataFormatError(f"directory={str(d)!r} is not a directory; pass the folder holding train.txt, "
                              "valid.txt and test.txt (or .csv/.tsv/.parquet).")
    found: dict[str, Path] = {}
    for role, stems in GIVEN_ROLES.items():
        hits = [d / f"{s}{suf}" for s in stems for suf in GIVEN_SUFFIXES if (d / f"{s}{suf}").is_file()]
        if len(hits) > 1:
            raise DataFormatError(f"directory={str(d)!r} has several {role} files ({[h.name for h in hits]}); "
                                  "keep one per part.")
        if hits:
            found[role] = hits[0]
    for role in ("train", "test"):
        if role not in found:
            raise DataFormatError(
                f"directory={str(d)!r} has no {role} file; expected {role}.txt (or .csv/.tsv/.parquet) beside "
                f"{sorted(p.name for p in d.iterdir())[:10]}.")
    return found


def read_given(directory: PathLike, format: str = "lines", *, user: str | None = None, item: str | None = None,
               rating: str | None = None, time: str | None = None, sep: str | None = None,
               duplicates: DuplicatePolicy = "error") -> Split:
    """Read a publisher's fixed split (train / valid or val / test files) with :func:`given_split`.

    ``format`` applies to every file (``"auto"`` picks it from each file's extension).
    ``meta["source"]`` lists each file with its sha256.
    """
    from recgen.data.readers import read_frame

    files = find_given_files(directory)
    frames = {role: read_frame(p, format, user=user, item=item, rating=rating, time=time, sep=sep)
              for role, p in files.items()}
    split = given_split(frames["train"], frames.get("valid"), frames["test"], duplicates=duplicates,
                        source=str(directory))
    split.meta["source"] = _source_info(directory, format, list(files.values()))
    return split


# ---------------------------------------------------------------------- prepare
def _source_info(path: PathLike, format: str, files: list[Path]) -> dict[str, Any]:
    base = Path(path) if Path(path).is_dir() else Path(path).parent
    return {"path": str(path), "format": format,
            "files": {str(f.relative_to(base)) if f.is_relative_to(base) else str(f): sha256_file(f)
                      for f in sorted(files)}}


def _source_files(path: Path, fmt: str) -> list[Path]:
    """The files a reader reads for ``path`` (for the manifest's checksums)."""
    if path.is_file():
        return [path]
    from recgen.data.movielens import find_movielens_ratings

    cand = {"movielens": find_movielens_ratings(path), "lastfm": path / "user_artists.dat",
            "movietweetings": path / "ratings.dat"}.get(fmt)
    if cand is not None and cand.is_file():
        return [cand]
    return sorted(p for p in path.iterdir() if p.is_file())


def _command(source: PathLike, options: dict[str, Any], defaults: dict[str, Any]) -> str:
    """The ``recgen data prepare`` command line for these options (without ``--out``, so that the
    manifest's bytes do not depend on where the directory is written)."""
    parts = ["recgen data prepare", shlex.quote(str(source))]
    for k, v in options.items():
        if v is not None and (v != defaults.get(k) or k in ("format", "split")):
            parts.append(f"--{_CLI_FLAGS.get(k, k.replace('_', '-'))} {shlex.quote(str(v))}")
    return " ".join(parts)


_CLI_FLAGS = {"k": "last-k"}  # options whose CLI flag is not the argument name (recgen/cli/data.py)
_PREPARE_DEFAULTS: dict[str, Any] = {
    "format": "auto", "split": "given", "min_rating": None, "min_user": 1, "min_item": 1, "val_users": None,
    "test_users": None, "fold_in": 0.8, "min_target_items": 5, "val_ratio": 0.1, "test_ratio": 0.2, "k": 1,
    "val_k": 1, "test_from": None, "val_from": None, "cutoff_unit": "quantile", "seed": 98765, "user": None,
    "item": None, "rating": None, "time": None, "sep": None, "duplicates": "error",
}


def prepare_dataset(source: PathLike, *, format: str = "auto", split: str = "given", out: PathLike | None = None,
                    min_rating: float | None = None, min_user: int = 1, min_item: int = 1,
                    val_users: int | None = None, test_users: int | None = None, fold_in: float = 0.8,
                    min_target_items: int = 5, val_ratio: float = 0.1, test_ratio: float = 0.2, k: int = 1,
                    val_k: int = 1, test_from: float | None = None, val_from: float | None = None,
                    cutoff_unit: str = "quantile", seed: int = 98765, user: str | None = None,
                    item: str | None = None, rating: str | None = None, time: str | None = None,
                    sep: str | None = None, duplicates: DuplicatePolicy = "error") -> Split:
    """Read ``source``, preprocess, split and (when ``out`` is given) save with a full manifest.

    ``split``: ``"given"`` (a directory of train/valid/test files, used as is: no preprocessing),
    ``"heldout-users"`` (``val_users``, ``test_users``, ``fold_in``, ``min_target_items``, ``seed``),
    ``"random"`` (``val_ratio``, ``test_ratio``, ``seed``), ``"leave-last"`` (``k``, ``val_k``) or
    ``"time"`` (``test_from``, ``val_from``, ``cutoff_unit`` = ``"quantile"`` or ``"seconds"``).
    Preprocessing (:func:`recgen.data.preprocess.preprocess`): ``min_rating``, ``min_user``, ``min_item``.
    ``split.meta`` gains ``source`` (path, format, sha256 of each file read), ``prepare`` (every
    argument) and ``preprocessing`` (the step reports).
    """
    given_args = dict(locals())
    options = {name: given_args[name] for name in _PREPARE_DEFAULTS}
    if split not in SPLITS:
        raise ConfigError(f"split={split!r} is not a split protocol; choose one of {SPLITS}.{suggest(split, SPLITS)}")
    src = Path(source)
    if not src.exists():
        raise DataFormatError(f"source={str(src)!r} does not exist; pass a data file or dataset directory.")
    reports: list[Any] = []
    if split == "given":
        if min_rating is not None or min_user != 1 or min_item != 1:
            raise ConfigError(
                f"split='given' uses the publisher's files as they are, but min_rating={min_rating!r}, "
                f"min_user={min_user!r}, min_item={min_item!r} ask for filtering; drop those options or "
                "choose another split.")
        result = read_given(src, format, user=user, item=item, rating=rating, time=time, sep=sep,
                            duplicates=duplicates)
    else:
        from recgen.data.preprocess import preprocess
        from recgen.data.readers import detect_format, read_frame

        fmt = detect_format(src) if format == "auto" else format
        frame = read_frame(src, fmt, user=user, item=item, rating=rating, time=time, sep=sep)
        data = Interactions.from_frame(frame, rating="rating" if "rating" in frame.columns else None,
                                       time="time" if "time" in frame.columns else None,
                                       duplicates=duplicates, source=str(src))
        data, reports = preprocess(data, min_rating=min_rating, min_user=min_user, min_item=min_item)
        if data.n_users == 0 or data.nnz == 0:
            raise ConfigError(f"no users are left after filtering with min_rating={min_rating!r}, "
                              f"min_user={min_user!r}, min_item={min_item!r}; lower these thresholds.")
        if split == "heldout-users":
            if val_users is None or test_users is None:
                raise ConfigError(f"split='heldout-users' needs val_users and test_users (got {val_users!r}, "
                                  f"{test_users!r}); pass e.g. --val-users {max(1, data.n_users // 10)} "
                                  f"--test-users {max(1, data.n_users // 10)} (the data has {data.n_users} users).")
            result = heldout_users_split(data, val_users, test_users, fold_in=fold_in, seed=seed,
                                         min_target_items=min_target_items)
        elif split == "random":
            result = random_split(data, val_ratio=val_ratio, test_ratio=test_ratio, seed=seed)
        elif split == "leave-last":
            result = leave_last_k_split(data, k=k, val_k=val_k)
        else:
            if test_from is None:
                raise ConfigError("split='time' needs test_from (got None); pass e.g. test_from=0.9 with "
                                  "cutoff_unit='quantile', or a unix time with cutoff_unit='seconds'.")
            result = time_cutoff_split(data, test_from, val_from, unit=cutoff_unit)  # type: ignore[arg-type]
        result.meta["source"] = _source_info(src, fmt, _source_files(src, fmt))
    result.meta["prepare"] = jsonable(options)
    result.meta["preprocessing"] = jsonable(reports)
    if out is not None:
        save_split(result, out, manifest={"command": _command(source, options, _PREPARE_DEFAULTS)})
    return result
