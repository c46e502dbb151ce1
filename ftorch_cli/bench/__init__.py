"""`ftorch bench`: the engine against torch on the same workloads (DESIGN.md "Benchmarks", docs/bench.md).

The library below the `bench` command, one idea per module:
workloads (the data file, selection), program (building a workload in a
library), timing (calibrated, interleaved batches), stats, conformance (which
ops may carry a speed claim), machine, results (bench.arrow, summary.json),
baseline (regressions against an earlier run), runner (`run_bench`) and render.
Nothing is imported here, so `ftorch --help` stays fast.
"""
