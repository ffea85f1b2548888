"""Interaction data: the :class:`Interactions` type, readers, preprocessing, splits, downloads."""

from recgen.data.dataset import EvalSet, Split
from recgen.data.interactions import Interactions
from recgen.data.vocabulary import Vocabulary

__all__ = ["Interactions", "Vocabulary", "EvalSet", "Split"]
