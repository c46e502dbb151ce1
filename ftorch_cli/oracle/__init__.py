"""Running torch, the oracle, always in processes of its own: extraction workers
(extract_worker, the only importer of OpInfo's op_db) and the persistent live
worker for `conform --live` (live_worker, driven through live.LiveOracle)."""
