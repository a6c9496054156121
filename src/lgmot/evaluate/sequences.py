"""Score in-memory track tables against loaded sequences (used by training validation and the demo)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from ..data import Sequence, write_gt, write_results
from ..data.motio import atomic_write_text
from ..errors import InputError, check_name
from .trackeval_run import evaluate


def evaluate_sequences(sequences: list[Sequence], results: dict[str, pd.DataFrame], preproc: bool = False,
                       benchmark: str = "MOT17") -> pd.DataFrame:
    """TrackEval metrics for ``results[seq.name]`` (TRACK_COLUMNS) against each sequence's GT."""
    with tempfile.TemporaryDirectory(prefix="lgmot_evalseq_") as tmp:
        t = Path(tmp)
        for seq in sequences:
            check_name(seq.name, seq.root)
            if seq.gt is None:
                raise InputError(seq.root, f"sequence {seq.name} has no ground truth to evaluate against")
            # the in-memory GT, so a truncated sequence is scored on its own frames
            write_gt(t / "gt" / seq.name / "gt" / "gt.txt", seq.gt)
            atomic_write_text(t / "gt" / seq.name / "seqinfo.ini", seq.info.to_ini())
            write_results(t / "res" / f"{seq.name}.txt", results[seq.name])
        return evaluate(t / "gt", t / "res", preproc=preproc, benchmark=benchmark)
