"""The MovieTweetings 100K snapshot shipped inside recgen (MIT licence), for offline examples and tests.

See ``recgen/datasets/movietweetings-100k/README.md`` for the attribution, citation and checksums.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from recgen.data.interactions import DuplicatePolicy, Interactions
from recgen.errors import ArtifactError

MOVIETWEETINGS_DIR = "movietweetings-100k"
MOVIETWEETINGS_SHA256 = {
    "ratings.dat": "c0dd868c2632d10002ebc928ddc5345f33adeaa59eca52c2941c26a2c5e36fd6",
    "movies.dat": "e63fb84bc734e3c574f135634a40d3cbafab22b8f94f5fc0b80f80d1d2076efc",
}


def movietweetings_path() -> Path:
    """Directory of the shipped MovieTweetings files (``ratings.dat``, ``movies.dat``, ``LICENSE``, ``README.md``)."""
    root = resources.files("recgen") / "datasets" / MOVIETWEETINGS_DIR
    path = Path(str(root))
    if not (path / "ratings.dat").is_file():
        raise ArtifactError(
            f"the bundled dataset is missing at {path}; reinstall recgen (the wheel ships recgen/datasets/**)."
        )
    return path


def load_movietweetings(duplicates: DuplicatePolicy = "error") -> tuple[Interactions, pd.DataFrame]:
    """The shipped MovieTweetings 100K: ratings 0–10 with timestamps, and its item info frame.

    Returns ``(Interactions, item_info)``; 100,000 ratings by 16,554 users on 10,506 movies. Item ids are
    IMDb ids as 7-digit strings (``"0104257"``).
    """
    from recgen.data.movielens import read_item_info
    from recgen.data.readers import read_interactions

    path = movietweetings_path()
    data = read_interactions(path / "ratings.dat", "movietweetings", duplicates=duplicates)
    return data, read_item_info(path / "movies.dat", "movietweetings")
