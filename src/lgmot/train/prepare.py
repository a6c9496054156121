"""Sequences on disk -> :class:`TrainSequence` (detections matched to GT, appearance, language)."""
from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..data import Sequence
from .dataset import TrainSequence


def prepare_train_sequence(seq: Sequence, cfg: Config, detections: str = "public", appearance: bool = True,
                           cache_dir: str | Path | None = None, progress: bool = False,
                           text_encoder=None) -> TrainSequence:
    from ..track.run import prepare_inputs

    encoder = None
    if appearance and seq.has_images:
        from ..embed import encoder_for

        encoder = encoder_for(cfg.embed)
        if encoder.dim != cfg.model.node_in_dim:
            raise ValueError(f"the {cfg.embed.encoder} encoder gives {encoder.dim}-d appearance but "
                             f"model.node_in_dim is {cfg.model.node_in_dim}")
    inp = prepare_inputs(seq, detections, appearance=appearance, cache_dir=cache_dir, progress=progress,
                         need_gt_ids=True, encoder=encoder)
    from ..detect.filter import confident

    keep = confident(inp.dets.score.to_numpy(), cfg.tracker.min_score)  # train on what tracking sees
    dets = inp.dets[keep].reset_index(drop=True)
    ts = TrainSequence(seq.name, seq.info.fps, dets, inp.gt_ids[keep], None if inp.app is None else inp.app[keep])
    if text_encoder is not None and (cfg.train.isg_weight > 0 or cfg.train.spg_weight > 0):
        attach_language(ts, seq, text_encoder)
    return ts


def prepare_train_sequences(paths: list, cfg: Config, detections: str = "public", cache_dir: str | Path | None = None,
                            appearance: bool = True, progress: bool = False, text_encoder=None) -> list[TrainSequence]:
    """:func:`prepare_train_sequence` for each sequence folder in ``paths``. The config's text
    encoder is loaded once when a language loss is on and ``text_encoder`` is not given."""
    from ..data import load_sequence

    if text_encoder is None and (cfg.train.isg_weight > 0 or cfg.train.spg_weight > 0):
        from ..language import load_text_encoder

        text_encoder = load_text_encoder(cfg.train.text_encoder)
    return [prepare_train_sequence(load_sequence(p), cfg, detections, appearance, cache_dir, progress, text_encoder)
            for p in paths]


def attach_language(ts: TrainSequence, seq: Sequence, text_encoder) -> None:
    """Scene + instance embeddings from the sequence's language file, when it has one."""
    from ..language import find_annotations, instance_targets, scene_target

    ann = find_annotations(seq)
    if ann is None:
        return
    ts.scene_emb = scene_target(ann, text_encoder)
    ts.inst_emb = instance_targets(ann, text_encoder)


def make_validator(cfg: Config, inputs: list, gt_root_seqs: list[Sequence]):
    """``validate(model) -> metrics`` tracking ``inputs`` (SequenceInputs) and scoring with TrackEval."""
    from ..evaluate.sequences import evaluate_sequences
    from ..track import Tracker
    from ..track.run import track_sequence

    def validate(model) -> dict:
        model.eval()
        results = {}
        with Tracker(cfg, model) as tracker:  # its clip workers stop before training goes on
            for inp in inputs:
                results[inp.seq.name] = track_sequence(tracker, inp)
        df = evaluate_sequences(gt_root_seqs, results)
        row = df.loc["COMBINED"]
        return {k: float(row[k]) for k in ("HOTA", "IDF1", "MOTA", "AssA", "DetA")}

    return validate
