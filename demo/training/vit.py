"""Tiny ViT with timm parameter names (cls_token, pos_embed, patch_embed.proj, blocks.N.*, norm, head).

Written from the ViT paper's description (pre-norm blocks, fused qkv, erf GELU MLP, LayerNorm eps 1e-6).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def sincos_2d(dim, grid):
    """[1 + grid*grid, dim]: zero row for CLS, then per patch (row-major) sin/cos of the row index in the
    first half of the channels and of the column index in the second half, frequencies 1/10000^(k/(dim/4))."""
    quarter = dim // 4
    freq = 1.0 / (10000.0 ** (torch.arange(quarter, dtype=torch.float64) / quarter))
    r, c = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64), indexing='ij')
    def enc(pos):
        a = pos.reshape(-1, 1) * freq.reshape(1, -1)
        return torch.cat([a.sin(), a.cos()], dim=1)
    table = torch.cat([enc(r), enc(c)], dim=1)
    return torch.cat([torch.zeros(1, dim, dtype=torch.float64), table], dim=0).float()


class PatchEmbed(nn.Module):
    def __init__(self, patch, in_chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, return_attn=False):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(b, t, d)
        out = self.proj(out)
        return (out, attn) if return_attn else out


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x, return_attn=False):
        if return_attn:
            a, attn = self.attn(self.norm1(x), return_attn=True)
            x = x + a
            return x + self.mlp(self.norm2(x)), attn
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyViT(nn.Module):
    """num_classes=0 gives an encoder without `head` (the MIM model)."""

    def __init__(self, img_size=32, patch_size=4, in_chans=3, embed_dim=192, depth=6, num_heads=6,
                 mlp_ratio=4.0, num_classes=0, ln_eps=1e-6, pos_embed='sincos'):
        super().__init__()
        self.patch_size = patch_size
        self.grid = img_size // patch_size
        n = self.grid * self.grid
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, embed_dim))
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio, ln_eps) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=ln_eps)
        self.head = nn.Linear(embed_dim, num_classes) if num_classes > 0 else None
        if pos_embed == 'sincos':
            # Fixed 2-D sine-cosine table (as MAE): kept as a tensor named pos_embed, not trained.
            self.pos_embed.data.copy_(sincos_2d(embed_dim, self.grid).unsqueeze(0))
            self.pos_embed.requires_grad_(False)
        else:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Conv2d):
            # patch embedding initialised like a linear layer on the flattened patch (as MAE/SimMIM do)
            w = m.weight.data
            nn.init.xavier_uniform_(w.view(w.shape[0], -1))
            nn.init.zeros_(m.bias)

    def tokens(self, x, mask=None, mask_token=None):
        """Patch embedding (+ mask-token replacement) + CLS + position embedding."""
        x = self.patch_embed(x)
        if mask is not None:
            w = mask.flatten(1).unsqueeze(-1).type_as(x)
            x = x * (1 - w) + mask_token.expand(x.shape[0], x.shape[1], -1) * w
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        return torch.cat([cls, x], dim=1) + self.pos_embed

    def forward_features(self, x, mask=None, mask_token=None):
        x = self.tokens(x, mask, mask_token)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)

    def forward(self, x):
        return self.head(self.forward_features(x)[:, 0])

    @torch.no_grad()
    def probe(self, x):
        """Per-layer attention probabilities [B,H,T,T] and block outputs [B,T,D] (for the Python metric check)."""
        x = self.tokens(x)
        attns, feats = [], []
        for blk in self.blocks:
            x, a = blk(x, return_attn=True)
            attns.append(a)
            feats.append(x)
        return attns, feats
