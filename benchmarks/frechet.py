"""Speed and agreement of gentool's Fréchet distance against the two usual formulas, at D = 64, 512 and 2048.

    python benchmarks/frechet.py [--dims 64 512 2048] [--repeats 3] [--threads 2]

Compared on the same statistics (means and covariances of 2·D correlated Gaussian features, float64):
- gentool: `frechet_distance_stats` (Cholesky of S1, block-recursive Lᵀ S2 L, its symmetric eigenvalues);
- eigvals: tr sqrtm(S1 S2) as the sum of square roots of torch.linalg.eigvals(S1 S2) (a general eigenproblem);
- sqrtm:   the textbook formula with scipy.linalg.sqrtm(S1 S2), as pytorch-fid computes it.
Times are the best of `--repeats` runs (two at D >= 2048), in one process with `--threads` threads (default 2);
run nothing beside it. Prints a table and writes benchmarks/results/frechet[-threads<N>].json.
"""

from __future__ import annotations

import os
import sys

THREADS = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = THREADS  # before numpy and torch load their thread pools

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
import torch  # noqa: E402

from gentool.metrics import frechet_distance_stats  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "frechet.json"


def statistics(d: int, seed: int) -> tuple[np.ndarray, ...]:
    """Means and covariances of two sets of 2·d correlated Gaussian features (well conditioned)."""
    rng = np.random.default_rng(seed)
    out = []
    for shift in (0.0, 0.1):
        mixing = np.eye(d) + rng.normal(size=(d, d)) / np.sqrt(d)
        x = rng.normal(size=(2 * d, d)) @ mixing + shift
        out += [x.mean(0), np.cov(x, rowvar=False)]
    return tuple(out)


def by_eigvals(mu1, s1, mu2, s2) -> float:
    """The Fréchet distance with tr sqrtm(S1 S2) from the general eigenvalues of S1 S2."""
    s1, s2 = torch.from_numpy(s1), torch.from_numpy(s2)
    roots = torch.linalg.eigvals(s1 @ s2).real.clamp(min=0).sqrt().sum()
    return float(((mu1 - mu2) ** 2).sum() + s1.trace() + s2.trace() - 2 * roots)


def by_sqrtm(mu1, s1, mu2, s2) -> float:
    """The textbook Fréchet distance with scipy's matrix square root."""
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(root))


def best_time(fn, args, repeats: int) -> tuple[float, float]:
    """(fastest wall time in seconds, value) over `repeats` calls."""
    times, value = [], 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 512, 2048])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    header = (f"{'D':>5} {'gentool s':>10} {'eigvals s':>10} {'sqrtm s':>10} {'x eigvals':>10} {'x sqrtm':>8} "
              f"{'FID':>14} {'|diff| sqrtm':>13} {'|diff| eigvals':>15}")
    print(header)
    warm = statistics(16, seed=0)
    for fn in (frechet_distance_stats, by_eigvals, by_sqrtm):
        fn(*warm)  # first calls pay for thread pools and lazy imports, which are not what is compared
    for d in args.dims:
        stats = statistics(d, seed=d)
        repeats = min(2, args.repeats) if d >= 2048 else args.repeats
        t_ours, ours = best_time(frechet_distance_stats, stats, repeats)
        t_eig, eig = best_time(by_eigvals, stats, repeats)
        t_sqrtm, ref = best_time(by_sqrtm, stats, repeats)
        row = {"d": d, "gentool_s": t_ours, "eigvals_s": t_eig, "sqrtm_s": t_sqrtm,
               "speedup_vs_eigvals": t_eig / t_ours, "speedup_vs_sqrtm": t_sqrtm / t_ours,
               "fid": ours, "abs_diff_sqrtm": abs(ours - ref), "abs_diff_eigvals": abs(ours - eig)}
        rows.append(row)
        print(f"{d:>5} {t_ours:>10.4f} {t_eig:>10.4f} {t_sqrtm:>10.4f} {row['speedup_vs_eigvals']:>10.1f} "
              f"{row['speedup_vs_sqrtm']:>8.1f} {ours:>14.8f} {row['abs_diff_sqrtm']:>13.2e} "
              f"{row['abs_diff_eigvals']:>15.2e}", flush=True)
    out = RESULTS if args.threads == 2 else RESULTS.with_name(f"frechet-threads{args.threads}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": args.threads, "torch": torch.__version__, "scipy": scipy.__version__,
                               "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
