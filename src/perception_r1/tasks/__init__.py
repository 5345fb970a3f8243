"""Perception tasks: prompt templates, answer parsers, rewards and metrics. Pure functions, no torch.

Each task module follows one paper section (grounding: 4.2 / 6.1, counting: 4.3 / 6.2). Use
:func:`perception_r1.tasks.registry.get_task` for a uniform interface, and
:mod:`perception_r1.tasks.adapters` for TRL reward functions and a verl-style ``compute_score``.
"""
