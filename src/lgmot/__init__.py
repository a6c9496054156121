"""lgmot: language-guided multi-object tracking (SUSHI's graph hierarchy + LG-MOT's language training)."""
__version__ = "0.1.0"

from .config import Config, load_config, preset
from .data import Sequence, load_sequence
from .errors import InputError

__all__ = ["Config", "load_config", "preset", "Sequence", "load_sequence", "InputError", "__version__"]
