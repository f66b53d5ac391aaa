"""Independent PyTorch (float64) computation of the DESIGN.md metrics on the shipped demo pair.

Used to check the engine's numbers on the demo (`npm run demo`) and to read the findings before the
CLI existed. Definitions follow DESIGN.md exactly: patch-renormalised attention, average attention
distance in pixels, head diversity with eps=1e-8 log+, unbiased minibatch linear CKA over consecutive
batches of the sorted probe images (a final batch of fewer than 4 images is left out).

    /usr/bin/python3 demo/training/analyze.py --json demo/training/reference.json   # what npm run demo checks against
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
from export import read_safetensors  # noqa: E402
from vit import TinyViT  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, '..'))


def load_pair(ckdir):
    ck = torch.load(os.path.join(ckdir, 'mim_vit.pth'))
    a = ck['args']
    enc = TinyViT(a.img_size, a.patch_size, 3, a.embed_dim, a.depth, a.num_heads, a.mlp_ratio, 0, a.ln_eps)
    enc.load_state_dict({k[len('encoder.'):]: v for k, v in ck['model'].items()
                         if k.startswith('encoder.') and k != 'encoder.mask_token'})
    sd, meta = read_safetensors(os.path.join(ckdir, 'sup_vit.safetensors'))
    sup = TinyViT(int(meta['img_size']), int(meta['patch_size']), 3, int(meta['embed_dim']), int(meta['depth']),
                  int(meta['num_heads']), a.mlp_ratio, sd['head.weight'].shape[0], a.ln_eps)
    sup.load_state_dict(sd)
    return {'mim': enc.double().eval(), 'sup': sup.double().eval()}


def load_probes(folder):
    names = sorted(f for f in os.listdir(folder) if f.endswith('.png'))
    u8 = np.stack([np.asarray(Image.open(os.path.join(folder, n)).convert('RGB')) for n in names])
    x = torch.from_numpy(u8).permute(0, 3, 1, 2)
    return names, data.normalise(x).double()


def distances(grid, patch):
    r, c = np.divmod(np.arange(grid * grid), grid)
    d = np.sqrt((patch * (r[:, None] - r[None, :])) ** 2 + (patch * (c[:, None] - c[None, :])) ** 2)
    return torch.from_numpy(d)


def hsic1(k, l):
    n = k.shape[0]
    k = k.clone()
    l = l.clone()
    k.fill_diagonal_(0)
    l.fill_diagonal_(0)
    one = torch.ones(n, dtype=torch.float64)
    return (torch.trace(k @ l) + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
            - 2.0 / (n - 2) * (one @ k @ l @ one)) / (n * (n - 3))


def analyze(model, x, batch, eps=1e-8):
    grid, patch = model.grid, model.patch_size
    dist = distances(grid, patch)
    depth = len(model.blocks)
    heads = model.blocks[0].attn.heads
    ad = torch.zeros(depth, heads, dtype=torch.float64)
    kl = torch.zeros(depth, heads, heads, dtype=torch.float64)
    count = 0
    feats_all = [[] for _ in range(depth)]
    with torch.no_grad():
        attns, feats = model.probe(x)
    for l, a in enumerate(attns):
        p = a[:, :, 1:, 1:]
        p = p / p.sum(-1, keepdim=True)
        ad[l] = (p * dist).sum(-1).mean(dim=(0, 2))
        logp = torch.log(p.clamp_min(eps))
        # KL_bi(h||h') = sum_j p_h (log p_h - log p_h')
        ent = (p * logp).sum(-1)  # [B,H,N]
        cross = torch.einsum('bhij,bgij->bhgi', p, logp)  # sum_j p_h log p_g
        kl[l] = (ent[:, :, None, :] - cross).mean(dim=(0, 3))
        feats_all[l] = feats[l].flatten(1)
    count = x.shape[0]
    off = ~torch.eye(heads, dtype=torch.bool)
    hd = torch.stack([kl[l][off].view(heads, heads - 1).mean(1) for l in range(depth)])
    return {'ad': ad, 'hd': hd, 'feats': feats_all, 'n': count}


def cka(feats_a, feats_b, batch):
    la, lb = len(feats_a), len(feats_b)
    n = feats_a[0].shape[0]
    starts = [s for s in range(0, n, batch) if n - s >= 4 and min(batch, n - s) >= 4]
    xy = torch.zeros(la, lb, dtype=torch.float64)
    xx = torch.zeros(la, dtype=torch.float64)
    yy = torch.zeros(lb, dtype=torch.float64)
    for s in starts:
        ka = [f[s:s + batch] @ f[s:s + batch].T for f in feats_a]
        kb = [f[s:s + batch] @ f[s:s + batch].T for f in feats_b]
        for i in range(la):
            xx[i] += hsic1(ka[i], ka[i])
            for j in range(lb):
                xy[i, j] += hsic1(ka[i], kb[j])
        for j in range(lb):
            yy[j] += hsic1(kb[j], kb[j])
    return xy / torch.sqrt(xx[:, None] * yy[None, :]), len(starts)


def summary(name, r, c):
    depth = r['ad'].shape[0]
    offd = c[~torch.eye(depth, dtype=torch.bool)].mean().item()
    lines = [f'{name}: mean off-diagonal CKA {offd:.3f}']
    for l in range(depth):
        lines.append(f'  layer {l}: AD mean {r["ad"][l].mean():6.2f}px min {r["ad"][l].min():6.2f} max {r["ad"][l].max():6.2f}'
                     f' | HD mean {r["hd"][l].mean():.3f} nats')
    return '\n'.join(lines), offd


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--probes', default=os.path.join(ROOT, 'probes'))
    p.add_argument('--checkpoints', default=os.path.join(ROOT, 'checkpoints'))
    p.add_argument('--batch', type=int, default=16)
    p.add_argument('--json', default=None)
    a = p.parse_args()
    torch.set_num_threads(1)
    names, x = load_probes(a.probes)
    models = load_pair(a.checkpoints)
    out = {'probes': len(names), 'batch': a.batch}
    res = {}
    for k, m in models.items():
        r = analyze(m, x, a.batch)
        c, nb = cka(r['feats'], r['feats'], a.batch)
        text, offd = summary(k, r, c)
        print(text)
        res[k] = r
        out[k] = {'attentionDistance': r['ad'].tolist(), 'headDiversity': r['hd'].tolist(), 'cka': c.tolist(),
                  'ckaBatches': nb, 'ckaMeanOffDiagonal': offd}
    cross, _ = cka(res['mim']['feats'], res['sup']['feats'], a.batch)
    out['crossCka'] = cross.tolist()
    print('cross-model CKA diagonal (mim l vs sup l):', ' '.join(f'{v:.3f}' for v in cross.diagonal().tolist()))
    # Float64 sums of a few tensors as stored in the files, so tests can check the readers on them.
    ck = torch.load(os.path.join(a.checkpoints, 'mim_vit.pth'))
    sd, _ = read_safetensors(os.path.join(a.checkpoints, 'sup_vit.safetensors'))
    names = ['patch_embed.proj.weight', 'pos_embed', 'blocks.5.attn.qkv.weight', 'norm.bias']
    out['weightSums'] = {
        'mim': {f'encoder.{n}': ck['model'][f'encoder.{n}'].double().sum().item() for n in names + ['mask_token']},
        'sup': {n: sd[n].double().sum().item() for n in names + ['head.weight']},
    }
    out['weightSums']['mim']['decoder.0.weight'] = ck['model']['decoder.0.weight'].double().sum().item()
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(out, f, separators=(',', ':'))


if __name__ == '__main__':
    main()
