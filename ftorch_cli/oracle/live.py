"""Client side of the live torch oracle (`ftorch conform --live`).

One worker process (oracle/live_worker.py) serves every case of the run, so
torch is imported once and never in the conform process itself.
"""
from __future__ import annotations

import pickle
import subprocess

from ftorch_cli.errors import FtorchError
from ftorch_cli.oracle.processes import worker_command, worker_environment


class LiveOracleError(FtorchError):
    """The live torch worker could not be started or died."""


class LiveOracle:
    def __init__(self):
        try:
            self._process = subprocess.Popen(
                worker_command("ftorch_cli.oracle.live_worker"),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=worker_environment(),
            )
            hello = pickle.load(self._process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            raise LiveOracleError(f"the live torch worker did not start ({exc}); is torch installed?") from None
        self.torch_version: str = hello["torch_version"]

    def run(self, row: dict) -> tuple[str, object, object]:
        """("ok", expected, storages) or ("error", message, None) for one case row."""
        request = {key: row[key] for key in ("op", "dtype", "source", "label", "variant_name", "call", "inputs", "storages")}
        try:
            pickle.dump(request, self._process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._process.stdin.flush()
            answer = pickle.load(self._process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            raise LiveOracleError(f"the live torch worker died on case {row['case_id']} ({exc})") from None
        if answer[0] == "ok":
            return answer
        return ("error", answer[1], None)

    def close(self) -> None:
        try:
            pickle.dump(None, self._process.stdin)
            self._process.stdin.close()
        except OSError:
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
