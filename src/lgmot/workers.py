"""Worker processes die with their parent.

A worker calls :func:`die_with_parent` first thing (the pool's initializer). On Linux the kernel
sends it SIGKILL when the parent goes (``prctl(PR_SET_PDEATHSIG)``, via ctypes); everywhere a daemon
thread also polls the parent pid, which covers other systems and a parent that died before prctl.
So a ``kill -9`` of ``lgmot track`` leaves no worker writing result files behind it.

:func:`kill_workers` ends an executor's processes at once (Ctrl-C / SIGTERM in the parent), instead
of waiting for the clips or sequences in flight.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
POLL_S = 0.5


def spawned_by_main_thread() -> bool:
    """PR_SET_PDEATHSIG fires when the *thread* that started the child ends; only a child started by
    the main thread (whose end is the process's end) may use it."""
    return threading.current_thread() is threading.main_thread()


def _set_pdeathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int, use_pdeathsig: bool = True) -> None:
    """Make this (worker) process exit when ``parent_pid`` is gone."""
    if use_pdeathsig:
        _set_pdeathsig()
    if os.getppid() != parent_pid:  # the parent died before we got here
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(POLL_S)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="lgmot-parent-watch", daemon=True).start()


def kill_workers(executor) -> None:
    """Stop a ``ProcessPoolExecutor`` now: drop queued work and SIGKILL its processes."""
    procs = list((getattr(executor, "_processes", None) or {}).values())
    writer = getattr(getattr(executor, "_result_queue", None), "_writer", None)  # shutdown() drops it
    for p in procs:
        try:
            p.kill()
        except (OSError, AttributeError):
            pass
    try:
        executor.shutdown(wait=False, cancel_futures=True)
    except Exception:  # a broken pool
        pass
    for p in procs:
        try:
            p.join(timeout=5)
        except (OSError, AttributeError, AssertionError):
            pass
    # A worker killed while it sent a result leaves a cut message in the result pipe, and the pool's
    # reader thread (which the interpreter joins at exit) would wait for the rest of it for ever.
    # With every worker dead, closing this process's copy of the pipe's write end ends that wait.
    if writer is not None and not any(_alive(p) for p in procs):
        try:
            writer.close()
        except OSError:
            pass


def _alive(p) -> bool:
    try:
        return p.is_alive()
    except (OSError, AssertionError, ValueError):
        return False
