"""`torch.random`: seeding and the state of the default CPU generator (engine/_generator.py)."""
from engine._generator import (  # noqa: F401
    Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state,
)
