"""What each synthetic person looks like, and the true sentences about people and the scene."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..language.annotations import Description, scene_sentence, sentence_from_attributes
from .config import SynthConfig

# name -> BGR
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (40, 40, 205), "dark red": (30, 25, 120), "orange": (30, 130, 245), "yellow": (40, 215, 235),
    "green": (60, 175, 60), "dark green": (40, 90, 30), "light blue": (235, 195, 125), "blue": (205, 95, 35),
    "dark blue": (105, 40, 20), "purple": (145, 50, 125), "pink": (185, 135, 245), "white": (238, 238, 238),
    "grey": (140, 140, 140), "black": (28, 28, 28), "brown": (40, 70, 115), "beige": (150, 192, 218),
}
UPPER_COLORS = tuple(COLORS)
LOWER_COLORS = ("dark blue", "blue", "black", "grey", "brown", "beige", "white", "dark green", "red", "light blue")
UPPER_GARMENTS = ("top", "t-shirt")          # long sleeves / short sleeves
LOWER_GARMENTS = ("trousers", "shorts", "skirt")
PATTERNS = ("striped", "checked")
HAIR = {"black": (25, 25, 30), "brown": (35, 60, 95), "blond": (110, 190, 220), "grey": (165, 165, 165)}
SKIN = ((160, 190, 235), (120, 160, 215), (90, 125, 180), (60, 85, 130), (45, 60, 95))


@dataclass(frozen=True)
class Look:
    upper: str
    upper_garment: str
    pattern: str        # "plain" | "striped" | "checked"
    lower: str
    lower_garment: str
    hair: str
    skin: tuple[int, int, int]

    @property
    def upper_bgr(self) -> tuple[int, int, int]:
        return COLORS[self.upper]

    @property
    def lower_bgr(self) -> tuple[int, int, int]:
        return COLORS[self.lower]

    @property
    def pattern_bgr(self) -> tuple[int, int, int]:
        b, g, r = COLORS[self.upper]
        return (25, 25, 25) if 0.11 * b + 0.59 * g + 0.3 * r > 120 else (235, 235, 235)

    @property
    def hair_bgr(self) -> tuple[int, int, int]:
        return HAIR[self.hair]


def random_looks(n: int, cfg: SynthConfig, rng: np.random.Generator) -> list[Look]:
    """``n`` looks; index ``i`` belongs to track id ``i + 1``."""
    looks = []
    for _ in range(n):
        upper = UPPER_COLORS[rng.integers(len(UPPER_COLORS))]
        lower = LOWER_COLORS[rng.integers(len(LOWER_COLORS))]
        while lower == upper:
            lower = LOWER_COLORS[rng.integers(len(LOWER_COLORS))]
        pattern = PATTERNS[rng.integers(len(PATTERNS))] if rng.random() < cfg.pattern_prob else "plain"
        lg = LOWER_GARMENTS[rng.choice(3, p=[0.65, 0.2, 0.15])]
        looks.append(Look(upper=upper, upper_garment=UPPER_GARMENTS[rng.integers(2)], pattern=pattern,
                          lower=lower, lower_garment=lg, hair=tuple(HAIR)[rng.integers(len(HAIR))],
                          skin=SKIN[rng.integers(len(SKIN))]))
    return looks


def action(vx: np.ndarray, vz: np.ndarray, moving: np.ndarray) -> str:
    """The dominant motion of one person over the frames it is seen (world velocities in m/s)."""
    if len(moving) == 0 or moving.mean() < 0.4:
        return "standing still"
    mx, mz = float(vx[moving].mean()), float(vz[moving].mean())
    if abs(mx) >= abs(mz):
        return "walking left" if mx < 0 else "walking right"
    return "walking towards the camera" if mz < 0 else "walking away from the camera"


def instance_description(look: Look, act: str) -> Description:
    attrs = {"hair_color": look.hair, "upper_color": look.upper, "upper_pattern": look.pattern,
             "upper_garment": look.upper_garment, "lower_color": look.lower,
             "lower_garment": look.lower_garment, "action": act}
    return Description(text=sentence_from_attributes(attrs), attributes=attrs, provenance="synthetic")


def scene_description(cfg: SynthConfig) -> Description:
    n = cfg.n_people
    # The density knob or a large head count makes a crowd, whichever says so.
    crowd = "crowded" if (cfg.density >= 1.5 or n >= 24) else "sparse" if n <= 4 else "moderate"
    attrs = {"camera": cfg.camera, "viewpoint": cfg.viewpoint, "time": cfg.lighting, "blur": cfg.blur > 0,
             "crowd": crowd, "background": cfg.background}
    return Description(text=scene_sentence(attrs), attributes=attrs, provenance="synthetic")
