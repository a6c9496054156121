"""A seeded mutation fuzzer over lgmot's input readers (used by tests/test_hardening_fuzz.py and
benchmarks/diagnostics/hardening_audit.py).

Each kind of file starts from a valid sample; a mutant applies 1-4 random edits (byte and line
level, numbers swapped for extreme values, non-UTF-8 bytes, YAML values of other types) and is
read with lgmot's reader. A reader may accept the mutant or raise :class:`lgmot.errors.InputError`;
any other exception is a failure. Accepted track tables are also written back and re-read, so a
value the reader lets through cannot crash the writer.
"""
from __future__ import annotations

import json
import random
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lgmot.errors import InputError

SAMPLES = {
    "det": "1,-1,100.5,200,30,60,0.91,-1,-1,-1\n1,-1,10,20,30,60,0.5,-1,-1,-1\n2,-1,101,201,30,61,0.88,-1,-1,-1\n"
           "3,-1,102,202,31,60,1,-1,-1,-1\n",
    "gt": "1,1,100,200,30,60,1,1,1\n1,2,10,20,30,60,1,1,0.5\n2,1,101,201,30,61,1,1,1\n2,2,11,21,30,60,0,7,0.2\n"
          "3,1,102,202,31,60,1,1,1\n",
    "gt15": "1,1,100,200,30,60,1,-1,-1,-1\n2,1,101,201,30,61,1,-1,-1,-1\n3,2,11,21,30,60,0,2.5,3.1,0\n",
    "results": "1,1,100,200,30,60,0.9,-1,-1,-1\n1,2,10,20,30,60,1,-1,-1,-1\n2,1,101,201,30,61,0.8,-1,-1,-1\n"
               "3,5,102,202,31,60,1,-1,-1,-1\n",
    "seqinfo": "[Sequence]\nname=MOT17-02-FRCNN\nimDir=img1\nframeRate=30\nseqLength=600\nimWidth=1920\n"
               "imHeight=1080\nimExt=.jpg\n",
    "seqmap": "name\nMOT17-02-FRCNN\nMOT17-04-FRCNN\nTUD-Campus\n",
    "language": json.dumps({"format": "lgmot-language/1", "sequence": "MOT17-02",
                            "scene": {"text": "A scene captured by a static camera.", "attributes": {"camera": "static"},
                                      "provenance": "manual"},
                            "instances": {"1": {"text": "A person in a red top.", "attributes": {"upper_color": "red"},
                                                "provenance": "auto"},
                                          "2": {"text": "A person walking left.", "attributes": {},
                                                "provenance": "auto"}}}, indent=1) + "\n",
}
KINDS = ("det", "gt", "results", "seqinfo", "seqmap", "language", "config")

NUMBERS = ["0", "-1", "1", "1.5", "-0", "1e308", "1e309", "-1e309", "nan", "inf", "-inf", "NaN", str(2 ** 53 + 1),
           str(2 ** 63), str(2 ** 63 - 1), str(-(2 ** 63) - 1), str(2 ** 64), "9" * 40, "0x10", "1_000", "", " ",
           "abc", "'5.5", '"7"', "1e-400", "+3", "٣", "1,2", "\x00", "\ufeff1"]
TOKENS = [",", "\n", "\r\n", "-", ".", "e", "=", "[", "]", "{", "}", ":", "'", '"', "#", " ", "\t", "/", "..", "\\",
          "\x00", "\xff", "\u2028", "name=", "[Sequence]", "null", "- ", "&a ", "*a", "!!python/object:os.system"]
YAML_VALUES = ["5", "-3", "0", "1.5", "-1e9", ".nan", ".inf", "abc", "'abc'", "null", "true", "[]", "{}", "[1, 2]",
               "[5, 25, 75, 150]", "[a, b]", "[1, [2]]", "{a: 1}", "2024-13-45", "2024-01-01", "0x1F", "1_0",
               "!!binary aGk=", "&x [*x]", "~", "''", "[geometry]", "[true, false]", str(2 ** 70), "'\\xff'"]


def config_sample() -> str:
    from lgmot.config import preset

    return preset("lgmot").to_yaml()


def _edit(text: str, rng: random.Random, kind: str) -> str:
    op = rng.randrange(9)
    n = len(text)
    if op == 0 and n:  # delete a span
        i = rng.randrange(n)
        return text[:i] + text[i + rng.randint(1, 20):]
    if op == 1 and n:  # duplicate a span
        i = rng.randrange(n)
        return text[:i] + text[i:i + rng.randint(1, 40)] * 2 + text[i + 40:]
    if op == 2:  # insert a token
        i = rng.randrange(n + 1)
        return text[:i] + rng.choice(TOKENS) + text[i:]
    if op == 3:  # replace a number with an extreme value
        import re

        nums = list(re.finditer(r"-?\d+(\.\d+)?", text))
        if nums:
            m = rng.choice(nums)
            return text[:m.start()] + rng.choice(NUMBERS) + text[m.end():]
    if op == 4:  # shuffle, drop or repeat lines
        lines = text.split("\n")
        r = rng.randrange(3)
        if r == 0:
            rng.shuffle(lines)
        elif r == 1 and lines:
            del lines[rng.randrange(len(lines))]
        elif lines:
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(lines))
        return "\n".join(lines)
    if op == 5 and n:  # truncate
        return text[:rng.randrange(n)]
    if op == 6 and kind == "config":  # a YAML value of another type
        lines = text.split("\n")
        idx = [i for i, l in enumerate(lines) if ":" in l]
        if idx:
            i = rng.choice(idx)
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {rng.choice(YAML_VALUES)}"
            return "\n".join(lines)
    if op == 7 and kind == "language":  # a JSON value of another type
        try:
            obj = json.loads(text)
        except ValueError:
            return text
        vals = [None, 1, -1.5, "", "x", "../../x", "/abs", [], {}, [1], {"text": 5}, True, float("nan")]

        def walk(o, depth=0):
            if isinstance(o, dict) and o:
                k = rng.choice(list(o))
                if depth > 2 or rng.random() < 0.4:
                    o[k] = rng.choice(vals)
                else:
                    walk(o[k], depth + 1)
        walk(obj)
        return json.dumps(obj)
    if op == 8:  # a byte that is not UTF-8 (kept as a surrogate, written raw)
        i = rng.randrange(n + 1)
        return text[:i] + rng.choice(["\udcff", "\udcfe", "\udc80", "\udcc3("]) + text[i:]
    i = rng.randrange(n + 1)
    return text[:i] + rng.choice(TOKENS) + text[i:]


def mutate(text: str, rng: random.Random, kind: str) -> bytes:
    for _ in range(rng.randint(1, 4)):
        text = _edit(text, rng, kind)
    return text.encode("utf-8", "surrogateescape")


def read_kind(kind: str, path: Path) -> None:
    """Read ``path`` as ``kind`` with lgmot's reader; accepted track tables are written back and re-read."""
    from lgmot.config import Config
    from lgmot.data import motio
    from lgmot.data.layouts import read_seqmap
    from lgmot.data.sequence import read_seqinfo
    from lgmot.language.annotations import SequenceAnnotations

    if kind == "det":
        df = motio.read_detections(path)
        motio.read_detections(path, seq_length=3, min_score=0.6)
        back = path.with_suffix(".back")
        motio.write_detections(back, df)
        motio.read_detections(back)
    elif kind in ("gt", "gt15"):
        df = motio.read_gt(path, unique_ids=True)
        motio.read_gt(path, seq_length=2)
        back = path.with_suffix(".back")
        motio.write_gt(back, df)
        motio.read_gt(back)
    elif kind == "results":
        df = motio.read_results(path, unique_ids=True)
        back = path.with_suffix(".back")
        motio.write_results(back, df)
        motio.read_results(back)
    elif kind == "seqinfo":
        read_seqinfo(path)
    elif kind == "seqmap":
        read_seqmap(path)
    elif kind == "language":
        ann = SequenceAnnotations.read(path)
        ann.write(path.with_suffix(".back.json"))
    elif kind == "config":
        cfg = Config.load(path)
        assert Config.from_dict(cfg.to_dict()) == cfg
    else:
        raise ValueError(kind)


@dataclass
class FuzzReport:
    tried: Counter = field(default_factory=Counter)
    accepted: Counter = field(default_factory=Counter)
    clean_errors: Counter = field(default_factory=Counter)
    failures: list = field(default_factory=list)  # (kind, exception line, mutant bytes)

    @property
    def total(self) -> int:
        return sum(self.tried.values())


def fuzz(workdir: Path, per_kind: int, seed: int = 0, kinds=KINDS, time_budget_s: float | None = None) -> FuzzReport:
    """``per_kind`` mutants of each kind (``gt`` alternates the 9- and 10-column flavours)."""
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    samples = dict(SAMPLES, config=config_sample())
    rep = FuzzReport()
    deadline = None if time_budget_s is None else time.monotonic() + time_budget_s
    for i in range(per_kind):
        if deadline is not None and time.monotonic() > deadline:
            break
        for kind in kinds:
            k = ("gt15" if i % 2 else "gt") if kind == "gt" else kind
            data = mutate(samples[k], rng, kind)
            path = workdir / {"seqinfo": "seqinfo.ini", "language": "language.json", "config": "cfg.yaml",
                              "seqmap": "seqmap.txt"}.get(kind, f"{kind}.txt")
            path.write_bytes(data)
            rep.tried[kind] += 1
            try:
                read_kind(k, path)
                rep.accepted[kind] += 1
            except InputError as e:
                if "\n" in str(e) or not str(e).startswith(str(path)):
                    rep.failures.append((kind, f"InputError not one line naming the file: {e!r}", data))
                else:
                    rep.clean_errors[kind] += 1
            except Exception as e:  # noqa: BLE001 - the point is to catch anything else
                where = traceback.extract_tb(e.__traceback__)[-1]
                rep.failures.append((kind, f"{type(e).__name__}: {e} ({Path(where.filename).name}:{where.lineno})",
                                     data))
    return rep
