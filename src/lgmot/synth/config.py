"""SynthConfig: every knob of the synthetic world, and the named presets (one source, several targets)."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

CAMERAS = ("static", "pan", "shake")
VIEWPOINTS = ("low", "medium", "high")
LIGHTINGS = ("day", "dusk", "night")
BACKGROUNDS = ("plain", "textured")


@dataclass(frozen=True)
class SynthConfig:
    """One synthetic sequence. Distances are metres, image sizes pixels, speeds per second."""

    name: str = "source"
    frames: int = 300
    people: int = 12             # mean number of people in the world at once (before ``density``)
    width: int = 640
    height: int = 480
    fps: float = 25.0
    seed: int = 0
    # domain knobs
    camera: str = "static"       # static | pan | shake
    pan_speed: float = 40.0      # px/s of the pan sweep
    pan_range: float = 0.3       # sweep amplitude as a fraction of the image width
    shake_px: float = 6.0        # std of the shake offset in px
    viewpoint: str = "medium"    # low | medium | high: camera height and tilt
    scale: float = 1.0           # focal length multiplier (zoom)
    lighting: str = "day"        # day | dusk | night (night and dusk add sensor noise)
    noise: float | None = None   # sensor noise std in grey levels; None = from lighting
    blur: int = 0                # horizontal motion blur kernel length in px (0 = none)
    density: float = 1.0         # crowd multiplier on ``people``
    background: str = "plain"    # plain | textured
    # motion
    speed: tuple[float, float] = (0.7, 1.7)  # walking speed range, m/s
    turn_rate: float = 0.08      # turns per person per second
    stop_rate: float = 0.04      # stops per walking person per second
    stop_time: tuple[float, float] = (0.8, 3.0)  # seconds
    group_prob: float = 0.35     # chance that a newcomer walks with a companion
    pattern_prob: float = 0.35   # chance that a top has stripes
    # detections
    det_recall: float = 0.9      # P(detected | GT visibility >= det_min_vis)
    det_precision: float = 0.9   # expected TP / all detections
    det_min_vis: float = 0.3
    det_jitter: float = 0.04     # box noise std as a fraction of box size
    tp_score: tuple[float, float] = (6.0, 1.5)  # Beta(a, b) of true positive scores
    fp_score: tuple[float, float] = (2.0, 3.0)  # Beta(a, b) of false positive scores
    jpeg_quality: int = 90

    def __post_init__(self) -> None:
        checks = [
            (self.frames >= 1, "frames must be >= 1"),
            (self.people >= 1, "people must be >= 1"),
            (self.width >= 64 and self.height >= 48, "image must be at least 64x48"),
            (self.fps > 0, "fps must be positive"),
            (self.camera in CAMERAS, f"camera must be one of {CAMERAS}"),
            (self.viewpoint in VIEWPOINTS, f"viewpoint must be one of {VIEWPOINTS}"),
            (self.lighting in LIGHTINGS, f"lighting must be one of {LIGHTINGS}"),
            (self.background in BACKGROUNDS, f"background must be one of {BACKGROUNDS}"),
            (self.scale > 0, "scale must be positive"),
            (self.blur >= 0, "blur must be >= 0"),
            (self.density > 0, "density must be positive"),
            (0 < self.det_recall <= 1, "det_recall must be in (0, 1]"),
            (0 < self.det_precision <= 1, "det_precision must be in (0, 1]"),
            (0 <= self.det_min_vis <= 1, "det_min_vis must be in [0, 1]"),
            (0 <= self.det_jitter <= 0.1, "det_jitter must be in [0, 0.1] (detections keep IoU >= 0.5)"),
            (1 <= self.jpeg_quality <= 100, "jpeg_quality must be in [1, 100]"),
            (0 < self.speed[0] <= self.speed[1], "speed must be an increasing (min, max) pair"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(f"SynthConfig: {msg}")

    @property
    def n_people(self) -> int:
        return max(1, round(self.people * self.density))

    @property
    def noise_std(self) -> float:
        if self.noise is not None:
            return self.noise
        return {"day": 2.0, "dusk": 5.0, "night": 9.0}[self.lighting]

    def with_(self, **kw: Any) -> "SynthConfig":
        """A copy with some fields changed; ``None`` values are ignored (handy for CLI flags)."""
        return replace(self, **{k: v for k, v in kw.items() if v is not None})


#: The source domain and the target domains; each target moves one or two knobs away from source.
PRESETS: dict[str, SynthConfig] = {
    "source": SynthConfig(name="source"),
    "pan": SynthConfig(name="pan", camera="pan"),
    "shake": SynthConfig(name="shake", camera="shake"),
    "night": SynthConfig(name="night", lighting="night"),
    "dusk-blur": SynthConfig(name="dusk-blur", lighting="dusk", blur=9),
    "high-view": SynthConfig(name="high-view", viewpoint="high"),
    "crowded": SynthConfig(name="crowded", density=2.5),
    "textured": SynthConfig(name="textured", background="textured"),
}
SUITE = "shift-suite"


def preset(name: str, **overrides: Any) -> SynthConfig:
    """The named preset with ``overrides`` applied (``None`` values ignored)."""
    if name not in PRESETS:
        raise KeyError(f"unknown synth preset {name!r}; choose from {', '.join(PRESETS)} or {SUITE}")
    known = {f.name for f in fields(SynthConfig)}
    bad = set(overrides) - known
    if bad:
        raise KeyError(f"unknown SynthConfig field(s): {', '.join(sorted(bad))}")
    return PRESETS[name].with_(**overrides)
