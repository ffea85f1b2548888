"""Preprocessing maths on hand-built matrices: inclusive binarize, k-core to a fixed point, reports, timestamps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recgen.data.interactions import Interactions
from recgen.data.preprocess import binarize, deduplicate, drop_items_without_users, kcore, preprocess
from recgen.errors import ConfigError, DataFormatError


def frame(rows):
    return pd.DataFrame(rows, columns=["user", "item", "rating", "time"])


@pytest.fixture
def chain():
    # k-core (2, 2) must peel u3 → item c → u2, leaving {u0, u1} × {a, b}
    return Interactions.from_frame(frame([
        ("u0", "a", 5, 10), ("u0", "b", 4, 11), ("u1", "a", 3, 12), ("u1", "b", 2, 13),
        ("u2", "b", 1, 14), ("u2", "c", 5, 15), ("u3", "c", 4, 16),
    ]), rating="rating", time="time")


def test_kcore_iterates_to_fixed_point(chain):
    out, rep = kcore(chain, min_user=2, min_item=2)
    assert out.users.to_list() == ["u0", "u1"] and out.items.to_list() == ["a", "b"]
    assert out.matrix.toarray().tolist() == [[5, 4], [3, 2]]
    assert out.times.toarray().tolist() == [[10, 11], [12, 13]]  # timestamps follow their entries
    assert (rep.rows_before, rep.rows_after, rep.rows_dropped) == (7, 4, 3)
    assert (rep.users_before, rep.users_after, rep.items_before, rep.items_after) == (4, 2, 3, 2)
    assert rep.params["iterations"] == 4  # u3, then c, then u2, then a stable pass
    assert (out.user_counts() >= 2).all() and (out.item_counts() >= 2).all()
    again, _ = kcore(out, min_user=2, min_item=2)
    assert again.fingerprint() == out.fingerprint()  # a fixed point


def test_kcore_user_only_and_errors(chain):
    out, _ = kcore(chain, min_user=2)
    assert out.users.to_list() == ["u0", "u1", "u2"] and out.nnz == 6
    with pytest.raises(DataFormatError, match=r"kcore\(min_user=3, min_item=1\) left no interactions .* 7 interactions"):
        kcore(chain, min_user=3)
    with pytest.raises(ConfigError, match="min_item=-1"):
        kcore(chain, min_item=-1)


def test_binarize_inclusive_threshold(chain):
    out, rep = binarize(chain, 4)
    # ratings >= 4 survive: u0-a 5, u0-b 4, u2-c 5, u3-c 4; u1 has none left and is dropped
    assert out.users.to_list() == ["u0", "u2", "u3"] and out.items.to_list() == ["a", "b", "c"]
    assert out.matrix.toarray().tolist() == [[1, 1, 0], [0, 0, 1], [0, 0, 1]]
    assert out.times.toarray().tolist() == [[10, 11, 0], [0, 0, 15], [0, 0, 16]]
    assert rep.rows_dropped == 3 and rep.step == "binarize" and rep.params == {"min_rating": 4}
    all_ones, rep2 = binarize(chain, None)
    assert all_ones.nnz == 7 and set(all_ones.matrix.data) == {1.0} and rep2.rows_dropped == 0
    with pytest.raises(DataFormatError, match=r"binarize\(min_rating=6\) left no interactions.*lower min_rating"):
        binarize(chain, 6)


def test_preprocess_chains_reports(chain):
    out, reps = preprocess(chain, min_rating=2, min_user=2, min_item=2)
    # binarize(>=2) drops u2-b (1); then u2 has only c, c has u2, u3... k-core(2,2) drops u2, u3, c
    assert [r.step for r in reps] == ["binarize", "kcore"]
    assert reps[0].rows_after == reps[1].rows_before == 6
    assert out.users.to_list() == ["u0", "u1"] and out.nnz == 4
    assert out.times is not None
    same, none = preprocess(chain)
    assert none == [] and same is chain


def test_drop_items_without_users():
    import scipy.sparse as sp

    m = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 0], [1, 0, 2]], dtype=np.float32))
    out, rep = drop_items_without_users(Interactions(m))
    assert out.users.to_list() == ["0", "2"] and out.items.to_list() == ["0", "2"]
    assert (rep.users_after, rep.items_after, rep.rows_dropped) == (2, 2, 0)


def test_deduplicate_policies():
    df = frame([("u", "a", 1, 20), ("u", "a", 3, 10), ("v", "a", 2, 5)])
    last = deduplicate(df, "last").sort_values("user").reset_index(drop=True)
    assert last["rating"].tolist() == [1, 2] and last["time"].tolist() == [20, 5]  # last by time
    first = deduplicate(df, "first").sort_values("user")
    assert first["rating"].tolist() == [3, 2] and first["time"].tolist() == [20, 5]
    assert deduplicate(df, "sum").sort_values("user")["rating"].tolist() == [4, 2]
    assert deduplicate(df, "mean").sort_values("user")["rating"].tolist() == [2, 2]
    # agrees with Interactions.from_frame(duplicates=...)
    for policy in ("sum", "max", "mean", "first", "last"):
        a = Interactions.from_frame(deduplicate(df, policy), rating="rating", time="time")
        b = Interactions.from_frame(df, rating="rating", time="time", duplicates=policy)
        assert a.fingerprint() == b.fingerprint(), policy
    with pytest.raises(ConfigError, match="policy='error'"):
        deduplicate(df, "error")
