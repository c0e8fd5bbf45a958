"""Runs `tomodachi` with stdout and stderr on a pseudo-terminal (isatty() is true)."""

import os
import pty
import select
import subprocess
import time

import harness


def run_on_terminal(args, env, cwd=None, timeout=300):
    """Runs `tomodachi <args>` on a pty until it exits; (exit status, decoded output)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([harness.TOMODACHI] + list(args), stdin=subprocess.DEVNULL, stdout=terminal,
                               stderr=terminal, env=env, cwd=cwd or harness.SOURCE_DIR)
    os.close(terminal)
    output = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child side closed
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(controller)
    return process.returncode, output.decode("utf-8", "replace")
