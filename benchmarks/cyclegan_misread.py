"""Where b2a loses the class: the test digits-m images whose translation core's digits network misreads.

    python benchmarks/cyclegan_misread.py RUN [--out misread.png] [--show 64]

RUN is a cyclegan run on `digits-m-pair`. Prints b2a class preservation, how many of the misread translations
come from sources the digits-m network reads correctly (so the class was there to keep), and the errors by true
and by predicted class; writes a grid of the first --show misread images in test order, each as source | F(b).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from gentool import api

SOURCE, TARGET = 1, 0  # b2a: digits-m to grey digits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path, default=Path("misread.png"))
    parser.add_argument("--show", type=int, default=64, help="misread images in the grid (rows of 8)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = api.load(args.run)
    evaluator = api.Evaluator(model, api.build("dataset", "digits-m-pair"))
    source, labels = evaluator.real("test", domain=SOURCE), evaluator.real_labels("test", domain=SOURCE)
    with torch.no_grad():
        translated = torch.cat([evaluator.translate(batch, "b2a").float().cpu() for batch in evaluator.batches(source)])
    read = evaluator.features(translated, "digits", None, domain=TARGET)["logits"].argmax(1)
    source_read = evaluator.features(source, "digits-m", None, domain=SOURCE)["logits"].argmax(1)
    wrong = read != labels
    print(f"b2a class preservation {1 - wrong.double().mean().item():.3f}; misread {int(wrong.sum())} of {len(labels)}, "
          f"of which the digits-m network reads the source correctly: {int((wrong & (source_read == labels)).sum())}")
    print("misread by true class:     ", torch.bincount(labels[wrong], minlength=10).tolist())
    print("misread by predicted class:", torch.bincount(read[wrong], minlength=10).tolist())
    shown = torch.nonzero(wrong).flatten()[: args.show - args.show % 8].tolist()
    if shown:  # each source beside its translation, 8 pairs a row
        pairs = torch.stack([source[shown], translated[shown].expand(-1, source.shape[1], -1, -1)], dim=1)
        api.save_image_grid(pairs.flatten(0, 1), args.out, nrow=16)
        print(f"wrote {args.out}: {len(shown)} misread images, source | F(b), in test order")


if __name__ == "__main__":
    main()
