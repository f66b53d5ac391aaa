"""Train the demo pair: the same tiny ViT, once supervised and once with SimMIM-style masked image modeling.

Run from the repository root with Debian's PyTorch (python3-torch, python3-skimage):
    nice -n 10 /usr/bin/python3 demo/training/train.py --mode sup
    nice -n 10 /usr/bin/python3 demo/training/train.py --mode mim
    /usr/bin/python3 demo/training/export.py          # writes demo/checkpoints/* from demo/training/runs/*
Both modes use the same data, the same augmentation, the same optimiser and the same number of steps;
only the objective differs. Seeds are fixed; curves go to demo/training/logs/<mode>.csv.
"""
import argparse
import csv
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from vit import TinyViT  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--mode', choices=['sup', 'mim'], required=True)
    p.add_argument('--model', default='vit_d128_h4_patch4_32')
    p.add_argument('--img_size', type=int, default=32)
    p.add_argument('--patch_size', type=int, default=4)
    p.add_argument('--embed_dim', type=int, default=128)
    p.add_argument('--depth', type=int, default=6)
    p.add_argument('--num_heads', type=int, default=4)
    p.add_argument('--mlp_ratio', type=float, default=4.0)
    p.add_argument('--ln_eps', type=float, default=1e-6)
    p.add_argument('--pos_embed', choices=['sincos', 'learned'], default='sincos')
    p.add_argument('--train_per_class', type=int, default=2000)
    p.add_argument('--val_per_class', type=int, default=50)
    p.add_argument('--batch_size', type=int, default=32)
    p.add_argument('--steps', type=int, default=800)
    p.add_argument('--warmup_steps', type=int, default=50)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--min_lr', type=float, default=1e-5)
    p.add_argument('--weight_decay', type=float, default=0.05)
    p.add_argument('--label_smoothing', type=float, default=0.1)
    p.add_argument('--mask_ratio', type=float, default=0.6)
    p.add_argument('--mask_patch_size', type=int, default=4, help='SimMIM masks square blocks of this many pixels')
    p.add_argument('--eval_every', type=int, default=100)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--data_seed', type=int, default=1234)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--out', default=os.path.join(HERE, 'runs'))
    p.add_argument('--log', default=None)
    return p.parse_args(argv)


class SimMIM(nn.Module):
    """Encoder + learnable mask token + a linear decoder to the raw (normalised) pixels of each patch."""

    def __init__(self, encoder: TinyViT, patch_size: int):
        super().__init__()
        self.encoder = encoder
        dim = encoder.cls_token.shape[-1]
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        self.decoder_pred = nn.Linear(dim, patch_size * patch_size * 3)
        self.p = patch_size

    def forward(self, x, mask):
        """mask: [B, gh, gw] bool over model patches. Returns the L1 loss on masked patches only."""
        z = self.encoder.forward_features(x, mask, self.mask_token)[:, 1:]
        pred = self.decoder_pred(z)  # [B, N, p*p*3]
        b, _, h, w = x.shape
        p = self.p
        target = x.reshape(b, 3, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1).reshape(b, -1, p * p * 3)
        m = mask.flatten(1).unsqueeze(-1).type_as(x)
        return ((pred - target).abs() * m).sum() / (m.sum() * p * p * 3)


def make_masks(b, args, gen):
    """SimMIM block masking: choose round(ratio * blocks) of the mask blocks, expand to model patches."""
    grid = args.img_size // args.mask_patch_size
    scale = args.mask_patch_size // args.patch_size
    n = grid * grid
    k = int(round(args.mask_ratio * n))
    scores = torch.rand(b, n, generator=gen)
    idx = scores.argsort(dim=1)[:, :k]
    m = torch.zeros(b, n, dtype=torch.bool)
    m.scatter_(1, idx, True)
    m = m.view(b, grid, grid)
    return m.repeat_interleave(scale, 1).repeat_interleave(scale, 2)


def lr_at(step, args):
    if step < args.warmup_steps:
        return args.lr * (step + 1) / args.warmup_steps
    t = (step - args.warmup_steps) / max(1, args.steps - args.warmup_steps)
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * t))


def param_groups(model, wd):
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or n.endswith(('cls_token', 'pos_embed', 'mask_token')) else decay).append(p)
    return [{'params': decay, 'weight_decay': wd}, {'params': no_decay, 'weight_decay': 0.0}]


@torch.no_grad()
def evaluate(net, args, val_x, val_y):
    net.eval()
    gen = torch.Generator().manual_seed(999)  # same masks at every evaluation
    tot_loss, tot_correct, n = 0.0, 0, 0
    for i in range(0, val_x.shape[0], 250):
        xb = data.normalise(val_x[i:i + 250])
        if args.mode == 'sup':
            logits = net(xb)
            yb = val_y[i:i + 250]
            tot_loss += F.cross_entropy(logits, yb, reduction='sum').item()
            tot_correct += (logits.argmax(1) == yb).sum().item()
        else:
            tot_loss += net(xb, make_masks(xb.shape[0], args, gen)).item() * xb.shape[0]
        n += xb.shape[0]
    net.train()
    return tot_loss / n, (tot_correct / n if args.mode == 'sup' else float('nan'))


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log_path = args.log or os.path.join(HERE, 'logs', f'{args.mode}.csv')
    os.makedirs(os.path.dirname(log_path), exist_ok=True)

    t0 = time.time()
    photos = data.load_photos()
    train_x, train_y = data.sample_crops(photos, args.train_per_class, held_out=False, seed=args.data_seed)
    val_x, val_y = data.sample_crops(photos, args.val_per_class, held_out=True, seed=args.data_seed + 1)
    print(f'data: train {tuple(train_x.shape)} val {tuple(val_x.shape)} in {time.time() - t0:.1f}s', flush=True)

    num_classes = len(data.CLASS_NAMES) if args.mode == 'sup' else 0
    enc = TinyViT(args.img_size, args.patch_size, 3, args.embed_dim, args.depth, args.num_heads,
                  args.mlp_ratio, num_classes, args.ln_eps, args.pos_embed)
    net = enc if args.mode == 'sup' else SimMIM(enc, args.patch_size)
    opt = torch.optim.AdamW(param_groups(net, args.weight_decay), lr=args.lr, betas=(0.9, 0.999), foreach=True)

    gen = torch.Generator().manual_seed(args.seed)
    n_train = train_x.shape[0]
    perm, pos, epoch = torch.randperm(n_train, generator=gen), 0, 0
    fields = ['step', 'epoch', 'lr', 'train_loss', 'train_acc', 'val_loss', 'val_acc', 'elapsed_s']
    f = open(log_path, 'w', newline='')
    w = csv.writer(f)
    w.writerow(fields)
    run_loss, run_correct, run_n = 0.0, 0, 0
    t_train = time.time()
    for step in range(args.steps):
        if pos + args.batch_size > n_train:
            perm, pos, epoch = torch.randperm(n_train, generator=gen), 0, epoch + 1
        idx = perm[pos:pos + args.batch_size]
        pos += args.batch_size
        xb = data.normalise(data.augment(train_x[idx], gen))
        lr = lr_at(step, args)
        for g in opt.param_groups:
            g['lr'] = lr
        if args.mode == 'sup':
            yb = train_y[idx]
            logits = net(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=args.label_smoothing)
            run_correct += (logits.argmax(1) == yb).sum().item()
        else:
            loss = net(xb, make_masks(xb.shape[0], args, gen))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        run_loss += loss.item() * xb.shape[0]
        run_n += xb.shape[0]
        last = step == args.steps - 1
        if (step + 1) % args.eval_every == 0 or last:
            vl, va = evaluate(net, args, val_x, val_y)
            ta = run_correct / run_n if args.mode == 'sup' else float('nan')
            row = [step + 1, epoch, f'{lr:.6g}', f'{run_loss / run_n:.5f}', f'{ta:.4f}', f'{vl:.5f}', f'{va:.4f}',
                   f'{time.time() - t_train:.1f}']
            w.writerow(row)
            f.flush()
            print(' '.join(f'{k}={v}' for k, v in zip(fields, row)), flush=True)
            run_loss, run_correct, run_n = 0.0, 0, 0
    f.close()
    train_s = time.time() - t_train
    torch.save({'mode': args.mode, 'args': vars(args), 'epoch': epoch, 'steps': args.steps,
                'train_seconds': train_s, 'state': net.state_dict()}, os.path.join(args.out, f'{args.mode}.pt'))
    print(f'done: {args.steps} steps, {epoch} full epochs, {train_s:.0f}s training', flush=True)


if __name__ == '__main__':
    main()
