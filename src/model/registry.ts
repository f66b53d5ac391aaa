// Every layout family Model Lens knows, in the order they are tried: the first whose keys match builds the
// summary. More specific layouts come before the ones they would also match (SimMIM and BEiT use timm's
// block names, so they precede MAE and plain timm). Adding a family: one file in families/ and one line here.

import type { LayoutFamily } from './layoutFamily';
import { beitFamily } from './families/beit';
import { hfVitFamily } from './families/hfVit';
import { maeFamily } from './families/mae';
import { onnxGraphFamily } from './families/onnxGraph';
import { simmimFamily } from './families/simmim';
import { swinFamily } from './families/swin';
import { timmVitFamily } from './families/timmVit';
import { torchvisionVitFamily } from './families/torchvisionVit';

export const LAYOUT_FAMILIES: readonly LayoutFamily[] = [
  onnxGraphFamily,
  hfVitFamily,
  torchvisionVitFamily,
  swinFamily,
  simmimFamily,
  beitFamily,
  maeFamily,
  timmVitFamily,
];
