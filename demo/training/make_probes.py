"""Writes demo/probes/*.png: 32x32 RGB crops from the held-out right quarter of each photograph
(no training crop overlaps them). Names interleave the classes (p00_astronaut, p01_camera, ...) so that
the consecutive minibatches that CKA uses mix photographs.

    /usr/bin/python3 demo/training/make_probes.py
"""
import os
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402

PER_CLASS = 4
SEED = 4242


def main():
    out = os.path.join(HERE, '..', 'probes')
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith('.png'):
            os.remove(os.path.join(out, f))
    x, y = data.sample_crops(data.load_photos(), PER_CLASS, held_out=True, seed=SEED)
    n_cls = len(data.CLASS_NAMES)
    for k in range(PER_CLASS):
        for c in range(n_cls):
            i = c * PER_CLASS + k
            assert int(y[i]) == c
            name = f'p{k * n_cls + c:02d}_{data.CLASS_NAMES[c]}.png'
            Image.fromarray(x[i].permute(1, 2, 0).numpy(), 'RGB').save(os.path.join(out, name), optimize=True)
    print(f'{PER_CLASS * n_cls} probes in {os.path.normpath(out)}')


if __name__ == '__main__':
    main()
