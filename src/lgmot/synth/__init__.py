"""A synthetic MOT world with true language: people-like figures, domain knobs, MOT folders."""
from .config import PRESETS, SUITE, SynthConfig, preset
from .generate import SynthSequence, build, generate, make_sequence, shift_suite, write_sequence

__all__ = ["PRESETS", "SUITE", "SynthConfig", "SynthSequence", "build", "generate", "make_sequence", "preset",
           "shift_suite", "write_sequence"]
