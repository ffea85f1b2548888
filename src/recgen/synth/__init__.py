"""Synthetic user behaviour: generators (BehaviourGAN and baselines), the fidelity / privacy / utility
report, augmentation experiments, and reading / writing synthetic users."""

from recgen.synth.baselines import PopularitySampler, PopularitySamplerConfig, VAEPriorSampler, VAEPriorSamplerConfig
from recgen.synth.behaviour_gan import BehaviourGAN, BehaviourGANConfig

__all__ = ["BehaviourGAN", "BehaviourGANConfig", "PopularitySampler", "PopularitySamplerConfig",
           "VAEPriorSampler", "VAEPriorSamplerConfig"]
