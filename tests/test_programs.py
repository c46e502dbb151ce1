"""ftorch_cli.programs: the comparison of printed lines, and (slow) the example programs under torch and
under the engine substituted for torch."""
from __future__ import annotations

import pytest

from ftorch_cli.programs import compare_lines, examples_dir, run_program


def test_compare_lines_tolerance_and_words():
    assert compare_lines(["step 0 loss 1.000000"], ["step 0 loss 1.000050"]) is None
    assert "line 1" in compare_lines(["step 0 loss 1.0"], ["step 0 loss 1.1"])
    assert "line 1" in compare_lines(["step 0 loss 1.0"], ["step 1 loss 1.0"])
    assert "lines printed" in compare_lines(["a", "b"], ["a"])
    assert compare_lines(["x nan"], ["x nan"]) is None
    assert compare_lines(["<All keys matched successfully>"], ["<All keys matched successfully>"]) is None


def test_examples_exist():
    names = {p.stem for p in examples_dir().glob("*.py")}
    assert {"mlp_classifier", "poly_regression", "small_cnn", "char_lstm", "save_load_continue"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mlp_classifier", "poly_regression", "small_cnn", "char_lstm", "save_load_continue"])
def test_example_under_torch_and_engine(name):
    import engine

    functional = engine.nn.functional
    if not (hasattr(engine, "manual_seed") and hasattr(functional, "cross_entropy") and hasattr(functional, "conv2d")):
        pytest.skip("the engine's RNG / nn.functional ops are not in this build")
    result = run_program(examples_dir() / f"{name}.py")
    assert result.torch_lines, result.detail
    assert result.verdict == "pass", result.detail
