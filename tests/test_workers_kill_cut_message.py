"""kill_workers when a worker dies in the middle of sending its result: the pool's reader thread
must not wait for the rest of the message for ever (it is joined at interpreter exit, so a
process that killed its workers on Ctrl-C would never exit). Run in a child process, so a
regression cannot hang the test run."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import multiprocessing as mp, os, struct, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from lgmot.workers import kill_workers

    EX = None

    def cut_message(_):
        # the start of a result: a header promising 1000 bytes, then 10 of them; then killed
        EX._result_queue._writer._send(struct.pack("!i", 1000) + b"x" * 10)
        time.sleep(60)

    EX = ProcessPoolExecutor(1, mp_context=mp.get_context("fork"))
    fut = EX.submit(cut_message, 0)
    reader = EX._executor_manager_thread
    time.sleep(1.0)
    kill_workers(EX)
    reader.join(10)
    err = fut.exception(timeout=1) if fut.done() else None
    print("reader alive:", reader.is_alive(), "future:", type(err).__name__ if err else "pending", flush=True)
    os._exit(0)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork")
def test_reader_thread_ends_after_a_worker_is_killed_mid_message():
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "reader alive: False future: BrokenProcessPool" in r.stdout, r.stdout + r.stderr
