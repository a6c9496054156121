"""Hardening audit: fuzzed input files, a list of user mistakes on the command line, and kills of
``lgmot track``. Prints (and with --out writes as JSON) the counts: inputs tried, clean one-line
errors, tracebacks, orphaned worker processes after kills.

    python benchmarks/diagnostics/hardening_audit.py --per-kind 3000 --kills 3 --out benchmarks/results/hardening_audit.json

Run from the repository root (the kills use ``../shared/data/mot15_train``). A traceback is any
exception other than lgmot's InputError from a reader, or a CLI run that does not end in exactly one
``error:`` line with exit code 2.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from fuzzing import KINDS, fuzz  # noqa: E402
from killcheck import kill_run  # noqa: E402


def cli_cases(tmp: Path) -> list[tuple[str, list[str]]]:
    """(label, lgmot arguments) for user mistakes that must each end in one ``error:`` line."""
    def seq(name: str, **files) -> Path:
        d = tmp / f"seq_{len(list(tmp.iterdir()))}"
        (d / "gt").mkdir(parents=True)
        (d / "det").mkdir()
        (d / "seqinfo.ini").write_text(f"[Sequence]\nname={name}\nframeRate=10\nseqLength=5\nimWidth=64\nimHeight=48\n")
        (d / "gt" / "gt.txt").write_text(files.get("gt", "".join(f"{f},1,5,5,10,20,1,1,1\n" for f in range(1, 6))))
        (d / "det" / "det.txt").write_text(files.get("det", "".join(f"{f},-1,5,5,10,20,0.9\n" for f in range(1, 6))))
        return d

    good = seq("good")
    afile = tmp / "a_file.txt"
    afile.write_text("x\n")

    def cfg(text: str) -> str:
        p = tmp / f"cfg_{len(list(tmp.iterdir()))}.yaml"
        p.write_bytes(text.encode("utf-8", "surrogateescape"))
        return str(p)

    track = ["track", "--oracle", "--no-appearance", "-q", "--out"]
    cases = []
    for name in ("../../escaped", "/tmp/lgmot_audit_abs", "sub/dir/x", "", "..", "a\\b"):
        cases.append((f"seqinfo name {name!r}", [*track, str(tmp / "o1"), str(seq(name))]))
    cases += [
        ("--out is a file (track)", [*track, str(afile), str(good)]),
        ("--out is a file (train)", ["train", "--data", str(good), "--detections", "gt", "-q", "--out", str(afile)]),
        ("--out is a file (demo)", ["demo", "--data", str(good), "--frames", "3", "-q", "--out", str(afile)]),
        ("det score inf", [*track, str(tmp / "o2"), str(seq("s_inf", det="1,-1,5,5,10,20,inf\n"))]),
        ("det score nan", [*track, str(tmp / "o3"), str(seq("s_nan", det="1,-1,5,5,10,20,nan\n"))]),
        ("quoted number", [*track, str(tmp / "o4"), str(seq("s_q", det="1,-1,5,5,10,20,'5.5\n"))]),
        ("gt id 2^63", [*track, str(tmp / "o5"), str(seq("s_big", gt=f"1,{2 ** 63},5,5,10,20,1,1,1\n"))]),
        ("gt id 1.5", [*track, str(tmp / "o6"), str(seq("s_frac", gt="1,1.5,5,5,10,20,1,1,1\n"))]),
    ]
    for label, text in [("frames_per_level: 5", "tracker:\n  frames_per_level: 5\n"),
                        ("epochs: abc", "train:\n  epochs: abc\n"), ("top_k_nns: -3", "tracker:\n  top_k_nns: -3\n"),
                        ("lr: .nan", "train:\n  lr: .nan\n"), ("pruning: [x]", "tracker:\n  pruning: [x]\n"),
                        ("a date", "train:\n  seed: 2024-13-45\n"), ("not UTF-8", "name: \udcff\n"),
                        ("list as base", "base: [1]\n"), ("unknown key", "tracker:\n  nope: 1\n")]:
        cases.append((f"config {label}", [*track, str(tmp / "o7"), "--config", cfg(text), str(good)]))
    not_utf8 = seq("s_u")
    (not_utf8 / "gt" / "gt.txt").write_bytes(b"1,1,5,5,10,20,1,1,1\n\xff\xfe\n")
    cases.append(("eval: GT not UTF-8", ["eval", "--gt", str(not_utf8), "--results", str(tmp)]))
    lang = seq("s_lang")
    (lang / "language.json").write_bytes(b'{"format": "lgmot-language/1", "sequence": "\xff"}')
    cases.append(("train: language.json not UTF-8", ["train", "--data", str(lang), "--detections", "gt", "-q",
                                                      "--no-appearance", "--out", str(tmp / "o8")]))
    return cases


def run_cli_cases(tmp: Path) -> dict:
    from typer.testing import CliRunner

    from lgmot.cli import app

    runner = CliRunner()
    Path("/tmp/lgmot_audit_abs.txt").unlink(missing_ok=True)
    clean, bad = 0, []
    cases = cli_cases(tmp)
    for label, args in cases:
        res = runner.invoke(app, args)
        lines = [l for l in res.output.splitlines() if l.strip()]
        errors = [l for l in lines if l.startswith("error: ")]  # progress bars may precede it
        if res.exit_code == 2 and len(errors) == 1 and lines[-1] == errors[0] and "Traceback" not in res.output:
            clean += 1
        else:
            bad.append(f"{label}: exit {res.exit_code}: {res.output.strip()[-300:]!r} {res.exception!r}")
    escaped = [p for p in (tmp.parent / "escaped.txt", Path("/tmp/lgmot_audit_abs.txt")) if p.exists()]
    Path("/tmp/lgmot_audit_abs.txt").unlink(missing_ok=True)
    return {"tried": len(cases), "clean_errors": clean, "tracebacks": len(bad), "failures": bad,
            "files_escaped": [str(p) for p in escaped]}


def run_kills(tmp: Path, rounds: int) -> dict:
    runs = []
    for r in range(rounds):
        for label, sig, j, c, seqs in (("SIGKILL -j 2", signal.SIGKILL, 2, 1, None),
                                       ("SIGKILL --clip-workers 2", signal.SIGKILL, 1, 2, ("ETH-Bahnhof", "ETH-Pedcross2")),
                                       ("SIGTERM --clip-workers 2", signal.SIGTERM, 1, 2, ("ETH-Bahnhof", "ETH-Pedcross2"))):
            kw = {} if seqs is None else {"sequences": seqs}
            res = kill_run(tmp / f"kill{r}_{len(runs)}", sig, seq_workers=j, clip_workers=c, **kw)
            runs.append({"kind": label, "workers_seen": res.workers_seen, "orphans": len(res.orphans),
                         "files_after_kill": len(res.new_files), "seconds": round(res.seconds, 1)})
            print(f"  {label}: {res.workers_seen} workers, {len(res.orphans)} left alive, "
                  f"{len(res.new_files)} files written after the kill ({res.seconds:.0f} s)", flush=True)
    return {"kills": len(runs), "workers_seen": sum(r["workers_seen"] for r in runs),
            "orphaned_processes": sum(r["orphans"] for r in runs),
            "files_written_after_kill": sum(r["files_after_kill"] for r in runs), "runs": runs}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-kind", type=int, default=1000, help="fuzzed files per kind (7 kinds)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kills", type=int, default=1, help="rounds of the 3 kill scenarios")
    ap.add_argument("--out", type=Path, default=None, help="write the counts as JSON here")
    a = ap.parse_args()
    import lgmot

    report = {"lgmot": lgmot.__file__, "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory(prefix="lgmot_audit_") as t:
        tmp = Path(t)
        t0 = time.perf_counter()
        rep = fuzz(tmp / "fuzz", a.per_kind, seed=a.seed)
        report["fuzz"] = {"tried": rep.total, "accepted": sum(rep.accepted.values()),
                          "clean_errors": sum(rep.clean_errors.values()), "tracebacks": len(rep.failures),
                          "per_kind": {k: {"tried": rep.tried[k], "accepted": rep.accepted[k],
                                           "clean_errors": rep.clean_errors[k]} for k in KINDS},
                          "failures": [f"{k}: {m}" for k, m, _ in rep.failures[:20]],
                          "seconds": round(time.perf_counter() - t0, 1)}
        f = report["fuzz"]
        print(f"fuzz: {f['tried']} files, {f['accepted']} accepted, {f['clean_errors']} clean errors, "
              f"{f['tracebacks']} tracebacks ({f['seconds']} s)", flush=True)
        (tmp / "cli").mkdir()
        report["cli"] = run_cli_cases(tmp / "cli")
        c = report["cli"]
        print(f"cli mistakes: {c['tried']} tried, {c['clean_errors']} one-line errors, {c['tracebacks']} not",
              flush=True)
        for line in c["failures"]:
            print("  " + line)
        report["kill"] = run_kills(tmp / "kill", a.kills) if a.kills > 0 else None
        if report["kill"]:
            k = report["kill"]
            print(f"kills: {k['kills']} kills of lgmot track, {k['workers_seen']} workers, "
                  f"{k['orphaned_processes']} orphaned, {k['files_written_after_kill']} files written after", flush=True)
    tried = report["fuzz"]["tried"] + report["cli"]["tried"]
    clean = report["fuzz"]["clean_errors"] + report["cli"]["clean_errors"]
    tracebacks = report["fuzz"]["tracebacks"] + report["cli"]["tracebacks"]
    orphans = report["kill"]["orphaned_processes"] if report["kill"] else None
    report["summary"] = {"inputs_tried": tried, "clean_errors": clean, "accepted": report["fuzz"]["accepted"],
                         "tracebacks": tracebacks, "orphaned_processes_after_kill": orphans}
    print(f"summary: inputs tried {tried}, clean errors {clean}, accepted {report['fuzz']['accepted']}, "
          f"tracebacks {tracebacks}, orphaned processes after kill {orphans}")
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(report, indent=1) + "\n")
    sys.exit(1 if tracebacks or orphans else 0)


if __name__ == "__main__":
    main()
