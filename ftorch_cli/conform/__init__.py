"""Conformance: run the engine on recorded cases and judge it against torch.

runner (the run), judge (one case), comparators (the comparator registry),
reasons (the reason-code registry), gates (per-packet verdicts), results
(results.arrow, summary.json), coverage, render (rich tables), engine_adapter
(all that is assumed about the engine).
"""
