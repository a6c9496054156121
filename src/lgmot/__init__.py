"""lgmot: language-guided multi-object tracking (SUSHI's graph hierarchy + LG-MOT's language training)."""
__version__ = "0.1.0"

from .errors import InputError

__all__ = ["Config", "load_config", "preset", "Sequence", "load_sequence", "InputError", "__version__"]

# Imported on first use (PEP 562): ``import lgmot`` stays cheap, so ``lgmot --help`` and the
# command-line verbs import only what they need.
from .lazy import lazy_exports  # noqa: E402

__getattr__, __dir__ = lazy_exports(__name__, {"config": ("Config", "load_config", "preset"),
                                               "data": ("Sequence", "load_sequence")}, globals())
