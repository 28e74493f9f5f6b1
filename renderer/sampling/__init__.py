"""(config, seed, frame index) -> frame description, pure data: the randomizer registry, placement,
physics, motion through sequences.
"""
