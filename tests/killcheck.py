"""Kill a real ``lgmot track`` run and look for worker processes that outlive it (used by
tests/test_hardening_kill.py and benchmarks/diagnostics/hardening_audit.py)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

MOT15 = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mot15_train"
#: long sequences after a short one, so with -j 2 a file appears early while a worker is mid-sequence
KILL_SEQUENCES = ("TUD-Campus", "ETH-Bahnhof", "ETH-Pedcross2", "ADL-Rundle-8", "Venice-2")


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state letter) of a live process, None when it is gone or a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2:].split()
    state, ppid = rest[0], int(rest[1])
    return None if state in ("Z", "X") else (ppid, state)


def descendants(root: int) -> dict[int, int]:
    """{pid: depth} of the live processes below ``root`` (children depth 1, grandchildren 2, ...)."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            st = _stat(int(d.name))
            if st is not None:
                parent[int(d.name)] = st[0]
    out: dict[int, int] = {}
    frontier = {root: 0}
    while frontier:
        nxt = {}
        for pid, depth in frontier.items():
            for c, p in parent.items():
                if p == pid and c not in out:
                    out[c] = depth + 1
                    nxt[c] = depth + 1
        frontier = nxt
    return out


def _files(out: Path) -> list[Path]:
    try:
        return [p for p in out.iterdir() if p.is_file()]
    except OSError:
        return []


def _snapshot(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file()} if out.is_dir() else {}


@dataclass
class KillResult:
    workers_seen: int  # processes below lgmot track when it was killed
    files_before: int  # result files already written then
    orphans: list[int] = field(default_factory=list)  # still alive after the grace period
    new_files: list[str] = field(default_factory=list)  # result files written after the kill
    parent_exit: int | None = None
    seconds: float = 0.0


def kill_run(tmp: Path, sig: int = signal.SIGKILL, seq_workers: int = 2, clip_workers: int = 2,
             sequences: tuple[str, ...] = KILL_SEQUENCES, grace_s: float = 5.0, start_timeout_s: float = 60.0
             ) -> KillResult:
    """Start ``lgmot track`` (oracle, public detections) on MOT15 sequences and wait until its workers
    run: with ``seq_workers`` > 1 until the first result file is written (the other sequence workers
    are then mid-sequence, and sequences are still queued); else until its clip workers exist. Then
    send ``sig`` to it alone and report the processes that survive ``grace_s`` and the result files
    that appear after the kill."""
    t0 = time.perf_counter()
    tmp.mkdir(parents=True, exist_ok=True)
    seqmap = tmp / "seqmap.txt"
    seqmap.write_text("name\n" + "".join(f"{s}\n" for s in sequences))
    out = tmp / "out"
    cmd = [sys.executable, "-c", "import sys; from lgmot.cli import app; sys.argv[0] = 'lgmot'; app()",
           "track", str(MOT15), "--seqmap", str(seqmap), "--out", str(out), "--oracle", "--no-appearance", "-q",
           "--workers", str(seq_workers), "--clip-workers", str(clip_workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    seen: dict[int, int] = {}
    try:
        deadline = time.monotonic() + start_timeout_s
        while time.monotonic() < deadline and proc.poll() is None:
            seen = descendants(proc.pid)
            n = sum(1 for d in seen.values() if d == 1)
            if seq_workers > 1 and n >= seq_workers and any(p.suffix == ".txt" for p in _files(out)):
                break
            if seq_workers <= 1 and n >= clip_workers:
                break
            time.sleep(0.05)
        if proc.poll() is not None:
            raise RuntimeError(f"lgmot track ended (exit {proc.returncode}) before its workers were seen")
        seen = descendants(proc.pid)
        before = _snapshot(out)
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=grace_s if sig != signal.SIGKILL else 5)
        except subprocess.TimeoutExpired:
            pass
        alive = list(seen)
        end = time.monotonic() + grace_s
        while time.monotonic() < end:
            alive = [p for p in seen if _stat(p) is not None]
            if not alive:
                break
            time.sleep(0.1)
        time.sleep(1.0)  # would a surviving worker still write?
        alive = [p for p in seen if _stat(p) is not None]
        after = _snapshot(out)
        new = sorted(n for n, m in after.items() if before.get(n) != m)
        return KillResult(len(seen), len(before), alive, new, proc.poll(),
                          time.perf_counter() - t0)
    finally:
        for p in list(seen) + [proc.pid]:  # never leave anything behind, whatever the outcome
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        proc.wait()
