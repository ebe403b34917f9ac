"""Gaussian smoothing (seeds 000, 001): certified values against independent derivations.

1-D: the affine pieces found by an exact sweep (`constructions.linear_pieces_1d`, which shares
nothing with the region enumeration) integrated against the Gaussian density by mpmath's
quadrature; closed forms by hand (seed 000's α(μΦ(μ/s) + sφ(μ/s)) and its derivatives).
2-D: closed forms where f reduces to one direction, a large Monte Carlo (numpy, written here)
within its interval, and region probabilities against brute-force patterns (tests/brute.py).
"""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from brute import full_dimensional_regions
from hypothesis import given, settings

from exactrelu.calculus import parameter_gradient
from exactrelu.cli.main import main
from exactrelu.constructions import linear_pieces_1d, seed000_minimal
from exactrelu.core.errors import InputError
from exactrelu.core.network import Network, activation, affine
from exactrelu.io.case import case_to_json
from exactrelu.smoothing import decimal_interval, smoothed
from exactrelu.strategies import networks, points

F = Fraction
CASES = __import__("pathlib").Path(__file__).resolve().parent.parent / "cases"


def inside(q, v, slack=0.0):
    """Whether the number v lies in the Quantity's interval (widened by ``slack``)."""
    lo, hi = q.interval
    return float(lo) - slack <= v <= float(hi) + slack if isinstance(v, float) else lo <= v <= hi


def mpf(q):
    return mp.mpf(q.numerator) / q.denominator


def encloses(q, value, tol):
    """Whether the mpmath number ``value`` lies in the Quantity's interval widened by 10^-tol
    (compared at 60 digits)."""
    with mp.workdps(60):
        lo, hi = q.interval
        return mpf(lo) - mp.mpf(10) ** -tol <= value <= mpf(hi) + mp.mpf(10) ** -tol


def gaussian_integral_of_pieces(net, x, sigma, weight=lambda y: 1):
    """∫ f(y) φ((y − x)/σ)/σ dy and ∫ f'(y) φ(...)/σ dy by mpmath quadrature over each affine piece."""
    with mp.workdps(40):
        xs, ss = mpf(x), mpf(sigma)
        width = 40 * sigma
        pieces = linear_pieces_1d(net, x - width, x + width)
        dens = lambda y: mp.npdf(y, xs, ss)  # noqa: E731
        value = sum(mp.quad(lambda y: (mpf(a) * y + mpf(b)) * dens(y), [mpf(u), mpf(v)]) for u, v, a, b in pieces)
        grad = sum(mpf(a) * (mp.ncdf(mpf(v), xs, ss) - mp.ncdf(mpf(u), xs, ss)) for u, v, a, b in pieces)
        return value, grad


# -- 1-D ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("net_layers,x,sigma", [
    ([affine([[1], [1], [1]], [0, "-1/2", -1]), activation("relu"), affine([["1/2", 1, "-1/2"]])], F(1, 3), F(1, 4)),
    ([affine([[2], [-1]], [1, 0]), activation("hardtanh", min=-1, max=1), affine([[1, 3]], [-2])], F(-1), F(2)),
    ([affine([[1]], [0]), activation("leaky_relu", alpha="1/10"), affine([[2], [-1]]), activation("abs"),
      affine([[1, 1]])], F(1, 2), F(1, 3)),
])
def test_1d_closed_forms_against_quadrature_of_the_affine_pieces(net_layers, x, sigma):
    net = Network.from_layers(1, net_layers)
    s = smoothed(net, [x], sigma)
    value, grad = gaussian_integral_of_pieces(net, x, sigma)
    assert s.guarantee == "certified"
    lo, hi = s.value[0].interval
    assert hi - lo < F(1, 10**30)
    assert encloses(s.value[0], value, 30) and encloses(s.gradient[0][0], grad, 30)
    total = sum(float(r.probability.value) for r in s.regions)
    assert abs(total - 1) < 1e-15


@settings(max_examples=15, deadline=None)
@given(networks(max_input_dim=1, output_dim=1, max_width=3), points(1), points(1, 2, 2))
def test_1d_random_networks_against_quadrature(net, x, sigma):
    sigma = abs(sigma[0]) + F(1, 4)
    s = smoothed(net, list(x), sigma, prec=100, parameters=False)
    value, grad = gaussian_integral_of_pieces(net, x[0], sigma)
    assert encloses(s.value[0], value, 22) and encloses(s.gradient[0][0], grad, 22)


def test_1d_region_probabilities_are_those_of_the_brute_force_regions():
    net = Network.from_layers(1, [affine([[1], [1], [-1]], [0, -1, 2]), activation("relu"), affine([[1, -2, 1]])])
    s = smoothed(net, [F(1, 2)], F(1))
    brute = {r.pattern for r in full_dimensional_regions(case_to_json(net))}
    assert {r.pattern for r in s.regions} == brute
    # region (0, 1) (pattern: first on, second off, third on): P(0 < 1/2 + Z < 1) = 2Φ(1/2) − 1
    p = next(r for r in s.regions if r.pattern == ((2, 0, 2),)).probability
    assert inside(p, float(2 * mp.ncdf(0.5) - 1), 1e-15)


def test_certified_intervals_shrink_as_precision_grows():
    net1 = Network.from_layers(1, [affine([[1], [-2]], [0, 1]), activation("relu"), affine([[1, 1]])])
    net2 = Network.from_layers(2, [affine([[1, 2], [-1, 1], [1, -1]], [0, "1/2", -1]), activation("relu"),
                                   affine([[1, -1, 2]])])
    for net, x in ((net1, ["1/3"]), (net2, ["1/3", "-1/2"])):
        widths, previous = [], None
        for prec in (32, 64, 128, 256):
            q = smoothed(net, x, "1/2", prec=prec).value[0]
            lo, hi = q.interval
            widths.append(hi - lo)
            if previous is not None:  # both enclose the same number
                assert lo <= previous[1] and previous[0] <= hi
            previous = (lo, hi)
        assert all(a > b for a, b in zip(widths, widths[1:])) and widths[-1] < F(1, 2**200)


# -- seed 000's minimal model -------------------------------------------------------------------


@pytest.mark.parametrize("alpha,beta,gamma,x,sigma", [
    (2, 1, 1, -1, F(1, 2)), (2, 1, 1, 1, F(1, 2)), (3, -2, F(1, 2), 1, F(1, 5)), (F(-1, 2), F(3, 4), 0, -1, 2)])
def test_seed000_smoothed_output_and_parameter_gradient_by_hand(alpha, beta, gamma, x, sigma):
    s = smoothed(seed000_minimal(alpha, beta, gamma), [x], sigma)
    with mp.workdps(40):
        mu, sd = mpf(F(beta) * x + gamma), abs(mpf(F(beta))) * mpf(sigma)
        t = mu / sd
        Phi, phi = mp.ncdf(t), mp.npdf(t)
        a = mpf(F(alpha))
        expected = {
            "value": a * (mu * Phi + sd * phi),
            "dx": a * mpf(F(beta)) * Phi,
            "dalpha": mu * Phi + sd * phi,
            "dgamma": a * Phi,
            "dbeta": a * (x * Phi + mp.sign(beta) * mpf(sigma) * phi),
        }
    pg = s.parameter_gradient
    got = {"value": s.value[0], "dx": s.gradient[0][0], "dalpha": pg.weight[1][0][0][0],
           "dgamma": pg.bias[0][0][0], "dbeta": pg.weight[0][0][0][0]}
    for key, q in got.items():
        assert encloses(q, expected[key], 32), key
    assert inside(pg.bias[1][0][0], F(1))


def test_seed000_parameter_gradient_is_continuous_across_the_kink_locus():
    # x = 1, γ = −1: the locus β = −γ is β = 1; the unsmoothed ∂f/∂γ jumps from 0 to α there
    alpha, eps = 2, F(1, 10**9)
    below, above = seed000_minimal(alpha, 1 - eps, -1), seed000_minimal(alpha, 1 + eps, -1)
    jump = parameter_gradient(above, [1]).bias[0][0][0] - parameter_gradient(below, [1]).bias[0][0][0]
    assert jump == alpha
    for sigma in (F(1, 10), F(1, 2)):
        lo_q = smoothed(below, [1], sigma).parameter_gradient.bias[0][0][0]
        hi_q = smoothed(above, [1], sigma).parameter_gradient.bias[0][0][0]
        # ∂/∂γ = αΦ((β − 1)/(βσ)), Lipschitz in β near 1 with constant about αφ(0)/σ
        assert abs(float(hi_q.value) - float(lo_q.value)) < 4 * float(eps) / float(sigma)
        assert inside(lo_q, float(alpha * mp.ncdf(0)), 1e-8)


# -- 2-D ----------------------------------------------------------------------------------------


def test_2d_closed_form_when_f_depends_on_one_direction():
    # relu(y1 + y2) at x: E = μΦ(μ/s) + sφ(μ/s) with μ = x1 + x2, s = σ√2
    net = Network.from_layers(2, [affine([[1, 1]]), activation("relu"), affine([[1]])])
    x, sigma = (F(1, 3), F(-1, 2)), F(3, 4)
    s = smoothed(net, list(x), sigma)
    with mp.workdps(40):
        mu, sd = mpf(x[0] + x[1]), mpf(sigma) * mp.sqrt(2)
        value = mu * mp.ncdf(mu / sd) + sd * mp.npdf(mu / sd)
        grad = mp.ncdf(mu / sd)
    lo, hi = s.value[0].interval
    assert s.guarantee == "certified" and hi - lo < F(1, 10**30)
    assert encloses(s.value[0], value, 32) and all(encloses(s.gradient[0][j], grad, 32) for j in range(2))


def _numpy_relu_net(net):
    Ws = [np.array([[float(v) for v in row] for row in a.weight]) for a in net.chain.affines]
    bs = [np.array([float(v) for v in a.bias]) for a in net.chain.affines]

    def run(Y):
        v, pats = Y, []
        for W, b in zip(Ws[:-1], bs[:-1]):
            z = v @ W.T + b
            pats.append(z > 0)
            v = np.maximum(z, 0)
        return v @ Ws[-1].T + bs[-1], np.concatenate(pats, axis=1)

    return run


def test_2d_certified_values_within_a_large_monte_carlo_interval():
    net = Network.from_layers(2, [affine([[1, 2], [-1, 1], [1, -1], [2, 1]], [0, "1/2", -1, "-1/4"]),
                                  activation("relu"), affine([[1, -1, 2, 0], [0, 1, 1, -1]], [0, 1]),
                                  activation("relu"), affine([[1, -2]])])
    x, sigma = (F(1, 4), F(-1, 3)), F(2, 3)
    s = smoothed(net, list(x), sigma)
    assert s.guarantee == "certified"
    rng = np.random.default_rng(12345)
    N = 400_000
    Y = np.array([float(v) for v in x]) + float(sigma) * rng.standard_normal((N, 2))
    f, pats = _numpy_relu_net(net)(Y)
    mean, se = f[:, 0].mean(), f[:, 0].std() / np.sqrt(N)
    assert inside(s.value[0], float(mean), 5 * se)
    # E[J] by the Gaussian integration by parts identity E[f(x + σZ) Z]/σ
    for j in range(2):
        t = f[:, 0] * (Y[:, j] - float(x[j])) / float(sigma) ** 2
        assert inside(s.gradient[0][j], float(t.mean()), 5 * t.std() / np.sqrt(N))
    # region probabilities: brute-force patterns, frequencies of the sampled patterns
    brute = {r.pattern for r in full_dimensional_regions(case_to_json(net))}
    assert {r.pattern for r in s.regions} <= brute
    keys, counts = np.unique(pats, axis=0, return_counts=True)
    freq = {tuple(k): c / N for k, c in zip(keys, counts)}
    for r in s.regions:
        flat = tuple(v == 2 for layer in r.pattern for v in layer)
        p = freq.get(flat, 0.0)
        assert inside(r.probability, p, 5 * np.sqrt(max(p, 1e-6) / N) + 1e-6)


def test_2d_parameter_gradient_against_one_dimensional_reduction():
    # f(y) = α relu(β·y + γ) with β = (1, 0): ∂/∂γ = αΦ(μ/σ) as in 1-D
    net = Network.from_layers(2, [affine([[1, 0]], [F(1, 3)]), activation("relu"), affine([[2]])])
    s = smoothed(net, ["1/4", "7"], "1/2")
    with mp.workdps(30):
        t = (mp.mpf(1) / 4 + mp.mpf(1) / 3) / mp.mpf(0.5)
        assert inside(s.parameter_gradient.bias[0][0][0], float(2 * mp.ncdf(t)), 1e-15)
        # ∂/∂W0[0][1] = α E[y2 1[y1 + γ > 0]] = α·7·Φ(t): the second coordinate is independent
        assert inside(s.parameter_gradient.weight[0][0][0][1], float(14 * mp.ncdf(t)), 1e-13)


def test_parameter_gradient_undefined_when_a_neuron_sits_on_its_knot_on_a_region():
    net = Network.from_layers(1, [affine([[0]], [0]), activation("relu"), affine([[1]])])
    s = smoothed(net, [0], 1)
    assert s.parameter_gradient is None and "knot" in s.diagnostics["parameter_gradient"]
    assert inside(s.value[0], F(0))


# -- Monte Carlo beyond 2 inputs -----------------------------------------------------------------


def test_monte_carlo_beyond_two_inputs_is_an_estimate_with_a_confidence_interval():
    net = Network.from_layers(3, [affine([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), activation("relu"), affine([[1, 2, -1]])])
    x, sigma = [F(1, 2), F(-1), F(0)], F(1)
    s = smoothed(net, x, sigma, samples=200_000, confidence=0.999999)
    assert s.guarantee == "estimate" and s.confidence == 0.999999
    with mp.workdps(20):
        e = [float(mpf(v) * mp.ncdf(mpf(v)) + mp.npdf(mpf(v))) for v in x]
        g = [float(mp.ncdf(mpf(v))) for v in x]
    assert inside(s.value[0], e[0] + 2 * e[1] - e[2])
    for j, c in enumerate((1, 2, -1)):
        assert inside(s.gradient[0][j], c * g[j])
    assert len(s.regions) == 8 and abs(sum(r.probability.value for r in s.regions) - 1) < 1e-12
    with pytest.raises(InputError):
        smoothed(net, x, sigma, method="certified")


def test_monte_carlo_parameter_gradient_agrees_with_the_certified_one():
    net = Network.from_layers(1, [affine([[1], [-2]], [0, 1]), activation("relu"), affine([[1, 3]], [1])])
    exact = smoothed(net, ["1/3"], "1/2")
    mc = smoothed(net, ["1/3"], "1/2", method="monte-carlo", samples=100_000, confidence=0.999999)
    for l in range(2):
        for a, b in zip(np.ravel(exact.parameter_gradient.weight[l]), np.ravel(mc.parameter_gradient.weight[l])):
            assert inside(b, float(a.value))
        for a, b in zip(np.ravel(exact.parameter_gradient.bias[l]), np.ravel(mc.parameter_gradient.bias[l])):
            assert inside(b, float(a.value))


def test_bad_input():
    net = seed000_minimal(1, 1, 0)
    for kwargs in ({"sigma": 0}, {"sigma": "-1"}, {"sigma": 1, "method": "exact"}, {"sigma": 1, "prec": 8}):
        with pytest.raises(InputError):
            smoothed(net, [0], **kwargs)
    with pytest.raises(InputError):
        smoothed(net, [0, 1], 1)


def test_decimal_interval_rounds_outwards():
    lo, hi = decimal_interval((F(-2, 3), F(2, 3)), 3)
    assert (lo, hi) == ("-0.667", "0.667")
    assert F(lo) <= F(-2, 3) and F(hi) >= F(2, 3)


# -- the command line ---------------------------------------------------------------------------


def _cli(args, capsys):
    status = main(args + ["--json"])
    return status, json.loads(capsys.readouterr().out)


def test_cli_smooth_keys(capsys):
    case = str(CASES / "seed000" / "minimal-on-kink.json")  # 2·relu(x + 1)
    status, doc = _cli(["smooth", case, "--at", "-1", "--sigma", "1/2"], capsys)
    assert status == 0 and doc["guarantee"] == "certified" and "confidence" not in doc
    lo, hi = (F(v) for v in doc["value_interval"])  # φ(0) = 0.3989422804014326779399…
    assert lo <= F("0.39894228040143267793994") <= hi and hi - lo < F(1, 10**18)
    assert abs(doc["value_float"] - 0.3989422804014327) < 1e-15
    assert [[F(v) for v in pair] for pair in doc["gradient_interval"][0]] == [[1, 1]]
    status, doc = _cli(["smooth", str(CASES / "arrangements" / "general-position-3d.json"), "--at", "0,0,0",
                        "--sigma", "1", "--samples", "1000"], capsys)
    assert status == 0 and doc["guarantee"] == "estimate" and doc["confidence"] == 0.99 and doc["samples"] == 1000
    assert len(doc["gradient_interval"][0]) == 3
    assert main(["smooth", case, "--at", "-1", "--sigma", "0"]) == 2
    assert main(["smooth", case, "--at=-1,2", "--sigma", "1"]) == 2


def test_cli_smooth_text_and_parameters(capsys):
    case = str(CASES / "seed000" / "minimal-on-kink.json")
    assert main(["smooth", case, "--at", "1", "--sigma", "1/10", "--parameters"]) == 0
    out = capsys.readouterr().out
    assert "E[f_0(x + σZ)] ∈ [" in out and "E[∂f_0/∂b0[0]]" in out
    status, doc = _cli(["smooth", case, "--at", "1", "--sigma", "1/10", "--parameters"], capsys)
    assert set(doc["parameter_gradient_interval"]) == {"weight", "bias"}


def test_verify_checks_the_smoothed_seed000_case(capsys):
    assert main(["verify", str(CASES / "seed000")]) == 0
