// Every layout family Model Lens knows, in the order they are tried: the first whose keys match builds the
// summary. More specific layouts come before the ones they would also match: HF DINOv2 and HF BEiT /
// Data2Vec-vision before HF ViT (same anchor), and the timm-named layouts (MoCo v3, DINOv2, DeiT III, SimMIM, BEiT, MAE, DINO) before
// plain timm. Adding a family: one file in families/ and one line here.

import type { LayoutFamily } from './layoutFamily';
import { beitFamily } from './families/beit';
import { clipFamily } from './families/clip';
import { deit3Family } from './families/deit3';
import { dinoFamily } from './families/dino';
import { dinov2Family } from './families/dinov2';
import { eva02Family } from './families/eva02';
import { hfBeitFamily } from './families/hfBeit';
import { hfClipFamily } from './families/hfClip';
import { hfDinov2Family } from './families/hfDinov2';
import { hfSiglipFamily } from './families/hfSiglip';
import { mocov3Family } from './families/mocov3';
import { hfVitFamily } from './families/hfVit';
import { maeFamily } from './families/mae';
import { onnxGraphFamily } from './families/onnxGraph';
import { simmimFamily } from './families/simmim';
import { swinFamily } from './families/swin';
import { timmVitFamily } from './families/timmVit';
import { torchvisionVitFamily } from './families/torchvisionVit';

export const LAYOUT_FAMILIES: readonly LayoutFamily[] = [
  onnxGraphFamily,
  hfDinov2Family,
  hfBeitFamily,
  hfVitFamily,
  hfClipFamily,
  hfSiglipFamily,
  clipFamily,
  torchvisionVitFamily,
  swinFamily,
  mocov3Family,
  eva02Family,
  dinov2Family,
  deit3Family,
  simmimFamily,
  beitFamily,
  maeFamily,
  dinoFamily,
  timmVitFamily,
];
