import os

# Keep the oracle single-threaded in tests: results must not depend on thread count, and CI has 2 cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
