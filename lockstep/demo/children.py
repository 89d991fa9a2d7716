"""Ending a child process of the demo: politely first, then for sure (bounded either way)."""

from __future__ import annotations

import subprocess

__all__ = ["end"]


def end(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL; nothing if it has already exited."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)
