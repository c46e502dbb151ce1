"""Case generation: what a case is (program), recording it from torch (record),
the generators (views for FT-P2C-001; opinfo and special_values for FT-P2C-005)
and the extraction run over packets (extract)."""
