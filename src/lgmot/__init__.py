"""lgmot: language-guided multi-object tracking (SUSHI's graph hierarchy + LG-MOT's language training)."""
__version__ = "0.1.0"

from .errors import InputError

__all__ = ["Config", "load_config", "preset", "Sequence", "load_sequence", "InputError", "__version__"]

# Imported on first use (PEP 562): ``import lgmot`` stays cheap, so ``lgmot --help`` and the
# command-line verbs import only what they need.
_LAZY = {"Config": "config", "load_config": "config", "preset": "config", "Sequence": "data", "load_sequence": "data"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
