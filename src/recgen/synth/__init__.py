"""Synthetic user behaviour: generators (BehaviourGAN and baselines), the fidelity / privacy / utility
report, augmentation experiments, and reading / writing synthetic users."""

from recgen.synth.augment import augment_sparse_users, augment_with_users, augmentation_experiment
from recgen.synth.baselines import (
           PopularitySampler,
           PopularitySamplerConfig,
           VAEPriorSampler,
           VAEPriorSamplerConfig,
)
from recgen.synth.behaviour_gan import BehaviourGAN, BehaviourGANConfig
from recgen.synth.io import read_synthetic, write_synthetic
from recgen.synth.report import SynthReport, comparison_table, fidelity_report

__all__ = ["BehaviourGAN", "BehaviourGANConfig", "PopularitySampler", "PopularitySamplerConfig", "SynthReport",
           "VAEPriorSampler", "VAEPriorSamplerConfig", "augment_sparse_users", "augment_with_users",
           "augmentation_experiment", "comparison_table", "fidelity_report", "read_synthetic", "write_synthetic"]
