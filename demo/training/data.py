"""The demo data set: 32x32 crops of the CC0 / public-domain photographs shipped with scikit-image.

Label = which photograph a crop comes from (14 classes). Each photograph's rightmost quarter is held
out: validation crops and the committed probe images come only from there, training crops only from
the left three quarters. See demo/DATA.md for the choice and every image's licence.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

# (class name, skimage.data function). Only images whose skimage docstring states CC0, public
# domain or "no known copyright restrictions" (see demo/DATA.md). skimage's `clock` (public domain) is left
# out: its held-out quarter is a flat, motion-blurred wall with almost no non-flat 32x32 crops.
SOURCES = [
    ('astronaut', 'astronaut'),
    ('camera', 'camera'),
    ('brick', 'brick'),
    ('grass', 'grass'),
    ('gravel', 'gravel'),
    ('text', 'text'),
    ('cell', 'cell'),
    ('chelsea', 'chelsea'),
    ('coffee', 'coffee'),
    ('hubble', 'hubble_deep_field'),
    ('retina', 'retina'),
    ('rocket', 'rocket'),
    ('coins', 'coins'),
    ('ihc', 'immunohistochemistry'),
]
CLASS_NAMES = [c for c, _ in SOURCES]
HOLDOUT_FRACTION = 0.25
MIN_SIDE, MAX_SIDE = 32, 96  # source square side in pixels, before resizing to 32x32
MIN_STD = 6.0  # flat crops (black borders of retina/hubble) carry no label information
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def load_photos():
    import skimage.data as skd
    photos = []
    for _, fn in SOURCES:
        a = getattr(skd, fn)()
        if a.ndim == 2:
            a = np.stack([a, a, a], axis=-1)
        a = a[..., :3]
        photos.append(torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1).float())  # [3,H,W] 0..255
    return photos


def split_region(img, held_out):
    """Column range [x0, x1) of the train part (left) or the held-out part (right)."""
    w = img.shape[2]
    cut = int(round(w * (1 - HOLDOUT_FRACTION)))
    return (cut, w) if held_out else (0, cut)


def crop_resize(img, y, x, s, out=32):
    patch = img[:, y:y + s, x:x + s].unsqueeze(0)
    if s != out:
        patch = F.interpolate(patch, size=(out, out), mode='bilinear', align_corners=False, antialias=True)
    return patch[0].round().clamp(0, 255).to(torch.uint8)


def sample_crops(photos, per_class, held_out, seed, fixed_side=None):
    """Returns uint8 images [N,3,32,32] and int64 labels [N]."""
    g = np.random.default_rng(seed)
    xs, ys = [], []
    for label, img in enumerate(photos):
        x0, x1 = split_region(img, held_out)
        h = img.shape[1]
        got = 0
        while got < per_class:
            max_side = min(MAX_SIDE, h, x1 - x0)
            if fixed_side is not None:
                s = min(fixed_side, max_side)
            else:
                s = int(round(math.exp(g.uniform(math.log(MIN_SIDE), math.log(max_side)))))
            y = int(g.integers(0, h - s + 1))
            x = int(g.integers(x0, x1 - s + 1))
            c = crop_resize(img, y, x, s)
            if c.float().std().item() < MIN_STD:
                continue
            xs.append(c)
            ys.append(label)
            got += 1
    return torch.stack(xs), torch.tensor(ys, dtype=torch.int64)


def normalise(u8):
    x = u8.float() / 255.0
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(u8, gen):
    """Standard CIFAR-style augmentation: 4-pixel reflect padding + random 32x32 crop, horizontal flip."""
    b = u8.shape[0]
    padded = F.pad(u8.float(), (4, 4, 4, 4), mode='reflect')
    oy = torch.randint(0, 9, (b,), generator=gen)
    ox = torch.randint(0, 9, (b,), generator=gen)
    flip = torch.rand(b, generator=gen) < 0.5
    out = torch.empty(b, 3, 32, 32)
    for i in range(b):
        c = padded[i, :, oy[i]:oy[i] + 32, ox[i]:ox[i] + 32]
        out[i] = c.flip(-1) if flip[i] else c
    return out.to(torch.uint8)
