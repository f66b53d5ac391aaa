"""Reference points for the training results in demo/RESULTS.md.

- MIM: validation L1 on masked pixels (same masks as train.py's evaluation) of the trained model vs
  trivial predictors: all zeros (the normalised data mean), each image's mean over its visible pixels, and
  a purely local one (Gaussian-weighted average of the visible pixels, sigma 3 px, normalised convolution).
- Untrained: the DESIGN.md metrics of the randomly initialised ViT (seed 0, same init as train.py), to
  separate what training did from what the architecture does at initialisation.

    /usr/bin/python3 demo/training/baselines.py
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import analyze  # noqa: E402
import data  # noqa: E402
import train  # noqa: E402
from vit import TinyViT  # noqa: E402


def main():
    torch.set_num_threads(1)
    run = torch.load(os.path.join(HERE, 'runs', 'mim.pt'))
    args = argparse.Namespace(**run['args'])
    photos = data.load_photos()
    val_x, _ = data.sample_crops(photos, args.val_per_class, held_out=True, seed=args.data_seed + 1)
    x = data.normalise(val_x)
    gen = torch.Generator().manual_seed(999)
    pos = getattr(args, 'pos_embed', 'learned')
    enc = TinyViT(args.img_size, args.patch_size, 3, args.embed_dim, args.depth, args.num_heads, args.mlp_ratio, 0,
                  args.ln_eps, pos)
    net = train.SimMIM(enc, args.patch_size)
    net.load_state_dict(run['state'])
    net.eval()
    p = args.patch_size
    sums = {'trained': 0.0, 'zeros': 0.0, 'visible mean': 0.0, 'local interp.': 0.0}
    k1 = torch.exp(-torch.arange(-6, 7, dtype=torch.float32) ** 2 / (2 * 3.0 ** 2))
    k2 = k1[:, None] * k1[None, :]
    kern = (k2 / k2.sum()).view(1, 1, 13, 13).repeat(3, 1, 1, 1)
    n = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], 250):
            xb = x[i:i + 250]
            m = train.make_masks(xb.shape[0], args, gen)
            b = xb.shape[0]
            sums['trained'] += net(xb, m).item() * b
            pix = m.repeat_interleave(p, 1).repeat_interleave(p, 2).unsqueeze(1).expand_as(xb).float()
            vis = 1 - pix
            vmean = (xb * vis).sum(dim=(2, 3), keepdim=True) / vis.sum(dim=(2, 3), keepdim=True)
            num = torch.nn.functional.conv2d(torch.nn.functional.pad(xb * vis, (6,) * 4, mode='reflect'), kern, groups=3)
            den = torch.nn.functional.conv2d(torch.nn.functional.pad(vis, (6,) * 4, mode='reflect'), kern, groups=3)
            local = torch.where(den > 1e-3, num / den.clamp_min(1e-6), vmean.expand_as(xb))
            for name, pred in (('zeros', torch.zeros_like(xb)), ('visible mean', vmean.expand_as(xb)),
                               ('local interp.', local)):
                sums[name] += (((pred - xb).abs() * pix).sum() / pix.sum()).item() * b
            n += b
    print('MIM validation L1 on masked pixels (normalised units):')
    for k, v in sums.items():
        print(f'  {k:14s} {v / n:.4f}')

    torch.manual_seed(args.seed)
    init = TinyViT(args.img_size, args.patch_size, 3, args.embed_dim, args.depth, args.num_heads, args.mlp_ratio, 14,
                   args.ln_eps, pos).double().eval()
    _, probes = analyze.load_probes(os.path.join(analyze.ROOT, 'probes'))
    r = analyze.analyze(init, probes, 16)
    c, _ = analyze.cka(r['feats'], r['feats'], 16)
    text, _ = analyze.summary('untrained (seed 0 init)', r, c)
    print(text)


if __name__ == '__main__':
    main()
