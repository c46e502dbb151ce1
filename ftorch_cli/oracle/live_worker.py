"""The live torch oracle: one persistent process that re-runs recorded cases in torch.

    python -m ftorch_cli.oracle.live_worker

Protocol: pickled messages on stdin/stdout. The worker first sends
{"torch_version": ...}; then for each request (a case row: op, dtype, source,
label, variant_name, call, inputs, storages) it rebuilds the inputs as torch
tensors from the stored bytes, runs the case with the same program the
extractor used, and answers ("ok", expected, storages) or ("error", message).
A None request ends it. Anything torch prints goes to stderr, never into the
protocol stream.
"""
from __future__ import annotations

import os
import pickle
import sys


def _rebuild_and_record(torch, recorder, row: dict) -> dict:
    from ftorch_cli.cases.program import Call, stored_call_arguments
    from ftorch_cli.cases.record import CaseSpec
    from ftorch_cli.serialize.backends import TorchBackend

    backend = TorchBackend(torch, row["storages"])
    call = Call.from_json(row["call"])
    args = backend.decode(row["inputs"]["args"])
    kwargs = backend.decode(row["inputs"]["kwargs"])
    write_args, grad_args = stored_call_arguments(call, backend.decode)
    spec = CaseSpec(
        op=row["op"], dtype=row["dtype"], source=row["source"], label=row["label"], call=call.without_stored_arguments(),
        args=args, kwargs=kwargs, variant_name=row.get("variant_name", ""), write_args=write_args, grad_args=grad_args,
    )
    return recorder.record(spec)


def main() -> int:
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints land on stderr
    protocol_in = sys.stdin.buffer

    def send(message) -> None:
        pickle.dump(message, protocol_out, protocol=pickle.HIGHEST_PROTOCOL)
        protocol_out.flush()

    import torch

    from ftorch_cli.cases.record import Recorder

    torch.set_num_threads(1)
    recorder = Recorder(torch, "live")
    send({"torch_version": torch.__version__})
    while True:
        try:
            request = pickle.load(protocol_in)
        except EOFError:
            return 0
        if request is None:
            return 0
        try:
            row = _rebuild_and_record(torch, recorder, request)
            send(("ok", row["expected"], row["storages"]))
        except Exception as exc:  # reported per case; the worker keeps serving
            send(("error", f"{type(exc).__name__}: {exc}"))


if __name__ == "__main__":
    sys.exit(main())
