"""Fits the polynomial coefficients of csrc/elementwise_math.h (the vectorised
exp, log, tanh, erf and gelu kernels) and prints them as C hex literals.

Each fit is a Chebyshev approximation in mpmath at 60 digits (`mpmath.chebyfit`,
near-minimax in absolute error) of a smooth function on the reduced range its
kernel uses; the C compiler rounds the double literals to float for the float32
kernels. Run `python -m ftorch_cli.tools.fit_math_polynomials` to reproduce the
numbers; the kernels' accuracy is measured in tests/test_engine_math_kernels.py.

Coefficients are listed highest degree first (Horner order).
"""
from __future__ import annotations

import mpmath as mp

mp.mp.dps = 60

# gelu's Phi(a) - 1/2 is tabulated on GELU_INTERVALS intervals of GELU_WIDTH covering [0, 6):
# one polynomial of degree GELU_DEGREE per interval, in u = a - k * GELU_WIDTH.
GELU_INTERVALS = 16
GELU_WIDTH = 0.375
GELU_DEGREE = 5


def chebyshev(f, a, b, degree):
    coefficients, error = mp.chebyfit(f, [a, b], degree + 1, error=True)
    return [float(c) for c in coefficients], float(error)


def _series_guard(f, zero_value, tiny=mp.mpf(10) ** -25):
    """f with its limit at 0 (the fitted quotients are 0/0 there)."""
    return lambda t: zero_value(mp.mpf(t)) if abs(t) < tiny else f(mp.mpf(t))


def fits():
    half_ln2 = float(mp.log(2) / 2)
    yield "exp f32: expm1(r) = r + r^2 P(r), |r| <= ln2/2", chebyshev(
        _series_guard(lambda r: (mp.exp(r) - 1 - r) / r**2, lambda r: mp.mpf(1) / 2 + r / 6),
        -half_ln2 * 1.01, half_ln2 * 1.01, 4)
    yield "exp f64: expm1(r) = r + r^2 P(r), |r| <= ln2/2", chebyshev(
        _series_guard(lambda r: (mp.exp(r) - 1 - r) / r**2, lambda r: mp.mpf(1) / 2 + r / 6),
        -half_ln2 * 1.02, half_ln2 * 1.02, 10)
    yield "log f32: log1p(r) = r + r^2 P(r), |r| <= 1/3", chebyshev(
        _series_guard(lambda r: (mp.log1p(r) - r) / r**2, lambda r: -mp.mpf(1) / 2 + r / 3),
        -1 / 3 - 1e-3, 1 / 3 + 1e-3, 8)
    yield "log f64: 2 atanh(s) = 2s + s z T(z), z = s^2 <= 0.04", chebyshev(
        _series_guard(lambda z: (2 * mp.atanh(mp.sqrt(z)) - 2 * mp.sqrt(z)) / (mp.sqrt(z) * z), lambda z: mp.mpf(2) / 3),
        0, 0.0401, 7)
    yield "tanh f32: tanh(x) = x + x^3 P(x^2), |x| < 0.625", chebyshev(
        _series_guard(lambda s: (mp.tanh(mp.sqrt(s)) - mp.sqrt(s)) / (s * mp.sqrt(s)), lambda s: -mp.mpf(1) / 3),
        0, 0.625**2, 5)
    yield "erf f32: erf(z) = z + z P(z^2), |z| < 0.921875", chebyshev(
        _series_guard(lambda s: mp.erf(mp.sqrt(s)) / mp.sqrt(s) - 1, lambda s: 2 / mp.sqrt(mp.pi) - 1),
        0, 0.921875**2, 6)
    yield "erfc f32: log(erfc(a)) = Q(a - 2.5), a in [0.921875, 4]", chebyshev(
        lambda t: mp.log(mp.erfc(t + mp.mpf(2.5))), 0.921875 - 2.5, 4.0 - 2.5, 9)


def gelu_tables():
    """Per interval k: coefficients of Phi(k w + u) - 1/2 in u, highest degree first."""
    phi = lambda a: mp.ncdf(a) - mp.mpf(1) / 2  # noqa: E731
    rows, worst = [], 0.0
    for k in range(GELU_INTERVALS):
        left = k * GELU_WIDTH
        # a hair past both ends: a * (1/w) rounds, so an argument can land just outside its interval
        coefficients, error = chebyshev(lambda u: phi(left + u), -1e-6, GELU_WIDTH + 1e-6, GELU_DEGREE)
        rows.append(coefficients)
        worst = max(worst, error)
    return rows, worst


def main() -> None:
    for title, (coefficients, error) in fits():
        print(f"/* {title}; error {error:.3g} */")
        print("  " + ", ".join(c.hex() for c in coefficients))
    rows, worst = gelu_tables()
    print(f"/* gelu: Phi(a) - 1/2 on {GELU_INTERVALS} intervals of {GELU_WIDTH}, degree {GELU_DEGREE}; "
          f"error {worst:.3g} */")
    for degree in range(GELU_DEGREE + 1):
        column = [row[degree] for row in rows]
        print(f"static const float ft_gelu_c{GELU_DEGREE - degree}[16] = {{" + ", ".join(f"{c.hex()}f" for c in column) + "};")


if __name__ == "__main__":
    main()
