"""PyTorch eager float32 reference for `npm run bench`, written the way a researcher would: a plain ViT-B/16
(random weights, timm layout), forward hooks that capture the attention probabilities and block outputs,
and the three metrics of the MIM paper computed in torch. Prints one JSON line (timings, peak RSS).

Usage: python3 bench/torchReference.py [--probes 32] [--batch 16] [--threads N]
"""
import argparse, json, math, os, resource, time

T_START = time.perf_counter()
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument('--probes', type=int, default=32)
p.add_argument('--batch', type=int, default=16)
p.add_argument('--threads', type=int, default=0, help='0: torch default')
p.add_argument('--blas-only', action='store_true', help='print which BLAS torch loaded and a GEMM of the ViT-B MLP shape, then exit')
args = p.parse_args()
if args.threads > 0:
    torch.set_num_threads(args.threads)


def loaded_blas():
    """The BLAS library actually mapped into this process (after a matmul has run), and its kind."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ''
            base = os.path.basename(path)
            if base.startswith(('libblas', 'libopenblas', 'libmkl', 'libblis', 'libcblas')):
                libs.add(os.path.realpath(path))
    kind = 'unknown'
    joined = ' '.join(sorted(libs))
    if 'openblas' in joined:
        kind = 'openblas'
    elif 'mkl' in joined:
        kind = 'mkl'
    elif 'blis' in joined:
        kind = 'blis'
    elif '/blas/libblas' in joined:
        kind = 'reference'  # Debian's netlib libblas3: unoptimised
    return sorted(libs), kind


def gemm_gflops(m=3152, k=768, n=3072, reps=5):
    a = torch.randn(m, k)
    b = torch.randn(k, n)
    a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    times.sort()
    return 2 * m * k * n / 1e9 / times[len(times) // 2]


if args.blas_only:
    libs, kind = loaded_blas()
    print(json.dumps({'blas': libs, 'blasKind': kind, 'threads': torch.get_num_threads(), 'gemmGflops': gemm_gflops()}))
    raise SystemExit(0)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.attn_drop = nn.Identity()  # hook point for the attention probabilities, as in timm
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, c = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = self.attn_drop(attn.softmax(dim=-1))
        return self.proj((attn @ v).transpose(1, 2).reshape(b, t, c))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, img=224, patch=16, dim=768, depth=12, heads=12):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        n = (img // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim).normal_(std=0.02))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim).normal_(std=0.02))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return x


torch.manual_seed(0)
model = ViT().eval()
L, H, P, G = 12, 12, 16, 14
N = G * G

# Hooks, as one would write them with timm.
attn_maps, feats = {}, {}
for i, blk in enumerate(model.blocks):
    blk.attn.attn_drop.register_forward_hook(lambda m, inp, out, i=i: attn_maps.__setitem__(i, out))
    blk.register_forward_hook(lambda m, inp, out, i=i: feats.__setitem__(i, out))

ys, xs = torch.meshgrid(torch.arange(G), torch.arange(G), indexing='ij')
coords = torch.stack([ys.flatten(), xs.flatten()], 1).float() * P
dist = torch.cdist(coords, coords)  # [N,N] pixels

ad_sum = torch.zeros(L, H, dtype=torch.float64)
kl_sum = torch.zeros(L, H, H, dtype=torch.float64)
hsic = torch.zeros(L, L, dtype=torch.float64)
count = 0
batches = 0


def hsic1(K, Lm):
    n = K.shape[0]
    K = K.clone(); Lm = Lm.clone()
    K.fill_diagonal_(0); Lm.fill_diagonal_(0)
    one = torch.ones(n, 1, dtype=K.dtype)
    return (torch.trace(K @ Lm) + (one.T @ K @ one) * (one.T @ Lm @ one) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * (one.T @ K @ Lm @ one)).item() / (n * (n - 3))


g = torch.Generator().manual_seed(0)
with torch.no_grad():
    for start in range(0, args.probes, args.batch):
        bsz = min(args.batch, args.probes - start)
        x = (torch.rand(bsz, 3, 224, 224, generator=g) - 0.45) / 0.225
        model(x)
        for l in range(L):
            a = attn_maps[l][:, :, 1:, 1:]
            a = a / a.sum(-1, keepdim=True)
            ad_sum[l] += (a * dist).sum(-1).sum((0, 2)).double()
            la = a.clamp_min(1e-8).log()
            # KL(h||h') summed over b,i: sum_j a_h (log a_h - log a_h')
            cross = torch.einsum('bhij,bgij->hg', a, la).double()
            kl_sum[l] += cross.diagonal()[:, None] - cross
        count += bsz * N
        if bsz >= 4:
            grams = [(f.reshape(bsz, -1).double() @ f.reshape(bsz, -1).double().T) for f in (feats[l] for l in range(L))]
            for i in range(L):
                for j in range(L):
                    hsic[i, j] += hsic1(grams[i], grams[j])
            batches += 1

ad = (ad_sum / count).mean(1)
hd = ((kl_sum / count).sum(-1) / (H - 1)).mean(1)
cka = hsic / torch.sqrt(torch.outer(hsic.diagonal(), hsic.diagonal()))
elapsed = time.perf_counter() - T_START
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
libs, kind = loaded_blas()
print(json.dumps({'images': args.probes, 'threads': torch.get_num_threads(), 'seconds': elapsed, 'peakRssMb': peak,
                  'blas': libs, 'blasKind': kind,
                  'adLayer0': ad[0].item(), 'hdLayer0': hd[0].item(), 'cka01': cka[0, 1].item()}))
