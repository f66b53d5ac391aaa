// torchvision `vit_*`: `conv_proj`, `encoder.layers.encoder_layer_N`, MultiheadAttention in_proj.

import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import type { VitBlockWeights } from '../modelTypes';
import { finishVit } from '../vitLayout';

const KNOWN = [
  'ln_1.weight', 'ln_1.bias', 'self_attention.in_proj_weight', 'self_attention.in_proj_bias',
  'self_attention.out_proj.weight', 'self_attention.out_proj.bias', 'ln_2.weight', 'ln_2.bias',
  'mlp.0.weight', 'mlp.0.bias', 'mlp.3.weight', 'mlp.3.bias',
  'mlp.linear_1.weight', 'mlp.linear_1.bias', 'mlp.linear_2.weight', 'mlp.linear_2.bias',
];

export const torchvisionVitFamily: LayoutFamily = {
  label: 'torchvision ViT',
  reads: 'weights',
  match(ctx) {
    const prefix = ctx.prefixesFor('conv_proj.weight').find((p) => ctx.countIndexed(`${p}encoder.layers.encoder_layer_`) > 0);
    return prefix === undefined ? undefined : { prefix };
  },
  build(ctx, m) {
    const P = m.prefix;
    const blockHead = `${P}encoder.layers.encoder_layer_`;
    const layers = ctx.countIndexed(blockHead);
    const blocks: VitBlockWeights[] = [];
    for (let i = 0; i < layers; i++) {
      const b = `${blockHead}${i}.`;
      // Newer torchvision names the MLP linears mlp.0 / mlp.3; older releases mlp.linear_1 / mlp.linear_2.
      const old = ctx.get(`${b}mlp.linear_1.weight`) !== undefined;
      const l1 = old ? 'mlp.linear_1' : 'mlp.0';
      const l2 = old ? 'mlp.linear_2' : 'mlp.3';
      blocks.push({
        ln1W: `${b}ln_1.weight`, ln1B: `${b}ln_1.bias`,
        qkvW: `${b}self_attention.in_proj_weight`, qkvB: `${b}self_attention.in_proj_bias`,
        projW: `${b}self_attention.out_proj.weight`, projB: `${b}self_attention.out_proj.bias`,
        ln2W: `${b}ln_2.weight`, ln2B: `${b}ln_2.bias`,
        fc1W: `${b}${l1}.weight`, fc1B: `${b}${l1}.bias`, fc2W: `${b}${l2}.weight`, fc2B: `${b}${l2}.bias`,
      });
    }
    return finishVit(ctx, emptyDraft('torchvision-vit'), {
      family: 'torchvision-vit', prefix: P, blockHead, patchW: `${P}conv_proj.weight`, patchB: ctx.opt(`${P}conv_proj.bias`),
      clsToken: ctx.opt(`${P}class_token`), posEmbed: ctx.opt(`${P}encoder.pos_embedding`), blocks, known: KNOWN,
      unused: [/^encoder\.ln\.(weight|bias)$/, /^heads\./],
    });
  },
};
