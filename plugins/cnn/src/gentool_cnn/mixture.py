"""A Gaussian mixture fitted to GLO's learned latents by EM, and draws from it.

The paper samples from one full-covariance Gaussian, which spreads mass between the classes' regions of latent
space; a mixture of a few full-covariance components follows the latents' clusters, so samples keep the data's class
proportions. One component is exactly the single Gaussian (`gaussian.fit_gaussian`).
"""

from __future__ import annotations

import math

import torch

from gentool_cnn.gaussian import JITTER, fit_gaussian

Mixture = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # weights (K,), means (K, D), lower Cholesky factors (K, D, D)


def fit_mixture(z: torch.Tensor, components: int, *, iterations: int = 200, tolerance: float = 1e-7,
                seed: int = 0) -> Mixture:
    """EM for a `components`-Gaussian mixture with full covariances on codes z (N, D), started from k-means++ seeds
    drawn with `seed` (so every process fitting the same codes gets the same mixture). Runs until the mean
    log-likelihood gains less than `tolerance` or `iterations` pass. Computed in float64, returned in z's dtype."""
    codes = z.detach().double()
    k = max(1, min(components, len(codes)))
    if k == 1:
        mean, chol = fit_gaussian(codes)
        return _cast((torch.ones(1, dtype=codes.dtype), mean[None], chol[None]), z.dtype)
    means = _kmeans_plus_plus(codes, k, torch.Generator().manual_seed(seed))
    resp = torch.nn.functional.one_hot(torch.cdist(codes, means).argmin(1), k).double()
    previous = -math.inf
    for _ in range(iterations):
        mixture = _maximise(codes, resp)
        log_joint = component_log_density(codes, mixture)
        log_total = log_joint.logsumexp(1, keepdim=True)
        resp = (log_joint - log_total).exp()
        gain, previous = float(log_total.mean()) - previous, float(log_total.mean())
        if gain < tolerance:
            break
    return _cast(_maximise(codes, resp), z.dtype)


def component_log_density(z: torch.Tensor, mixture: Mixture) -> torch.Tensor:
    """log(weight_k) + log N(z | mean_k, cov_k) for every code and component, (N, K)."""
    weights, means, chols = mixture
    diff = (z[None] - means[:, None]).transpose(1, 2)  # (K, D, N)
    solved = torch.linalg.solve_triangular(chols, diff, upper=False)
    mahalanobis = solved.square().sum(1).T  # (N, K)
    log_det = 2 * chols.diagonal(dim1=1, dim2=2).log().sum(1)
    dim = z.shape[1]
    return weights.log() - 0.5 * (dim * math.log(2 * math.pi) + log_det + mahalanobis)


def sample_mixture(mixture: Mixture, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n draws (n, D): a component by its weight, then mean + chol @ eps; the randomness comes from `generator` on
    the CPU, so draws are reproducible."""
    weights, means, chols = mixture
    which = torch.multinomial(weights.detach().double().cpu(), n, replacement=True, generator=generator)
    eps = torch.randn(n, means.shape[1], generator=generator).to(device=means.device, dtype=means.dtype)
    which = which.to(means.device)
    return means[which] + (chols[which] @ eps[:, :, None])[:, :, 0]


def nearest_components(z: torch.Tensor, mixture: Mixture) -> torch.Tensor:
    """The index (N,) of the component each code is most likely drawn from, computed in float64."""
    mixture64 = tuple(t.double() for t in mixture)
    return torch.cat([component_log_density(part.double(), mixture64).argmax(1) for part in z.split(8192)])


def pick_codes(count: int, n: int, generator: torch.Generator | None = None, groups: torch.Tensor | None = None,
               wanted: torch.Tensor | None = None) -> torch.Tensor:
    """n indices into `count` codes, uniformly; given each code's group (count,) and the group each draw wants (n,),
    each draw picks uniformly among the codes of its group (among all codes when its group has none). On the CPU."""
    if groups is None or wanted is None:
        return torch.randint(count, (n,), generator=generator)
    groups, wanted = groups.cpu(), wanted.cpu()
    order = groups.argsort(stable=True)
    sizes = torch.bincount(groups, minlength=int(max(groups.max(), wanted.max())) + 1)
    starts = sizes.cumsum(0) - sizes
    size = sizes[wanted]
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    within = order[(starts[wanted] + (u * size).long()).clamp(max=count - 1)]  # clamped only where size is 0
    return torch.where(size > 0, within, (u * count).long())


def sample_kernel(centres: torch.Tensor, owners: torch.Tensor, chols: torch.Tensor, bandwidth: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """One kernel draw (N, D) around each of `centres` (N, D): the centre plus `bandwidth` times its owning component's
    Cholesky factor (`chols[owners]`) @ eps, eps from `generator` on the CPU."""
    eps = torch.randn(centres.shape, generator=generator).to(device=centres.device, dtype=centres.dtype)
    return centres + bandwidth * (chols[owners] @ eps[:, :, None])[:, :, 0]


def _maximise(codes: torch.Tensor, resp: torch.Tensor) -> Mixture:
    counts = resp.sum(0) + 1e-12
    means = resp.T @ codes / counts[:, None]
    diff = codes[None] - means[:, None]  # (K, N, D)
    cov = torch.einsum("kn,knd,kne->kde", resp.T, diff, diff) / counts[:, None, None]
    cov = cov + JITTER * torch.eye(codes.shape[1], dtype=codes.dtype)
    return counts / counts.sum(), means, torch.linalg.cholesky(cov)


def _kmeans_plus_plus(codes: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k seeds, each drawn with probability proportional to its squared distance from the seeds so far."""
    first = int(torch.randint(len(codes), (1,), generator=generator))
    seeds = [codes[first]]
    nearest = (codes - codes[first]).square().sum(1)
    for _ in range(k - 1):
        pick = int(torch.multinomial(nearest.cpu() + 1e-30, 1, generator=generator))
        seeds.append(codes[pick])
        nearest = torch.minimum(nearest, (codes - codes[pick]).square().sum(1))
    return torch.stack(seeds)


def _cast(mixture: Mixture, dtype: torch.dtype) -> Mixture:
    return tuple(t.to(dtype) for t in mixture)  # type: ignore[return-value]
