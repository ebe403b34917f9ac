"""Float paths (numpy, torch) for networks too large for exact enumeration.

``exactrelu.backends.numpy.bounds(net, norm, device=None, *, mode="explicit", lower=True,
samples=256, seed=0, domain=None)`` and ``exactrelu.backends.torch.bounds(...)`` (same
options; ``device`` None → "cuda" when a GPU is there, else "cpu") return a
`exactrelu.backends.numpy.FloatBounds`: certified upper bounds ``K_star, K1, K3, K4``
(ℓ1, ℓ∞), ``K_star, K1, K3`` (ℓ2), ``K`` with an enclosure, and L's bracket
(``L_lower``, ``L_upper``, ``L``). `exactrelu.bounds.bounds(..., backend="numpy"|"torch")`
hands over to them.
"""
