"""Perception-R1: rule-based RL (GRPO) post-training of vision-language models into perception policies.

Implements arXiv 2504.07954 ("Perception-R1: Pioneering Perception Policy with Reinforcement Learning").
Layers (imports point down only): cli -> train / evaluate -> tasks (geometry, matching) -> data -> models.
"""

__version__ = "0.1.0"
