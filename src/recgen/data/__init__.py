"""Interaction data: the :class:`Interactions` type, readers, preprocessing, splits, downloads."""

from recgen.data.bundled import load_movietweetings, movietweetings_path
from recgen.data.dataset import EvalSet, Split
from recgen.data.download import download_movielens, movielens_path
from recgen.data.features import Features
from recgen.data.features_readers import (
    lastfm_item_features,
    movielens_item_features,
    movielens_user_features,
    read_lastfm_tags,
)
from recgen.data.generate import GeneratedTruth, generate_interactions
from recgen.data.interactions import Interactions
from recgen.data.movielens import read_item_info, read_user_info
from recgen.data.prepared import load_split, prepare_dataset, read_given, save_split
from recgen.data.preprocess import StepReport, binarize, deduplicate, kcore, preprocess
from recgen.data.readers import read_frame, read_interactions
from recgen.data.splits import given_split, heldout_users_split, random_split
from recgen.data.splits_cold import ColdUserSplits, cold_items_split, cold_users_split
from recgen.data.splits_time import leave_last_k_split, time_cutoff_split
from recgen.data.vocabulary import Vocabulary

__all__ = ["Interactions", "Vocabulary", "EvalSet", "Split",
           "heldout_users_split", "random_split", "leave_last_k_split", "time_cutoff_split", "given_split",
           "read_given", "save_split", "load_split", "prepare_dataset",
           # data input layer
           "read_frame", "read_interactions", "read_item_info", "read_user_info", "download_movielens",
           "movielens_path", "load_movietweetings", "movietweetings_path", "generate_interactions", "GeneratedTruth",
           "preprocess", "binarize", "kcore", "deduplicate", "StepReport",
           # side information and cold-start protocols
           "Features", "movielens_item_features", "movielens_user_features", "lastfm_item_features",
           "read_lastfm_tags", "cold_items_split", "cold_users_split", "ColdUserSplits"]
