"""The ``numberplate`` entry point itself."""

import subprocess
import sys


def test_a_closed_output_pipe_ends_the_command_quietly():
    # `numberplate models | head -1`: the reader goes away before we are done writing.
    process = subprocess.Popen([sys.executable, "-m", "numberplate.cli.main", "models", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
