"""Writes media/icon.png (128x128): a lens over a 4x4 grid of image patches, its rim tinted by an
attention-like heat map. Drawn, not sourced, so it carries the project's own licence.

    /usr/bin/python3 scripts/makeIcon.py
"""
import math
import os

from PIL import Image, ImageDraw

S = 512  # drawn large, then downsampled for smooth edges
img = Image.new('RGBA', (S, S), (0, 0, 0, 0))
d = ImageDraw.Draw(img)
d.rounded_rectangle((16, 16, S - 16, S - 16), radius=96, fill=(24, 32, 48, 255))
# 4x4 patch grid; each patch's shade falls off with its distance from the query patch (1, 1).
g0, cell, gap = 72, 84, 10
for r in range(4):
    for c in range(4):
        w = math.exp(-((r - 1) ** 2 + (c - 1) ** 2) / 2.0)
        col = (int(40 + 215 * w), int(70 + 110 * w), int(120 - 60 * w), 255)
        x, y = g0 + c * (cell + gap), g0 + r * (cell + gap)
        d.rounded_rectangle((x, y, x + cell, y + cell), radius=14, fill=col)
# The lens: a ring over the query patch and a handle.
cx, cy, rad = 190, 190, 120
d.ellipse((cx - rad, cy - rad, cx + rad, cy + rad), outline=(236, 240, 248, 255), width=26)
d.line((cx + 0.72 * rad, cy + 0.72 * rad, 440, 440), fill=(236, 240, 248, 255), width=48)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'media', 'icon.png')
img.resize((128, 128), Image.LANCZOS).save(out, optimize=True)
print(os.path.normpath(out))
