// EVA-02 (baaivision/EVA and timm's Eva): recognised so that it is named and refused clearly rather than
// mistaken for a plain ViT. Its blocks use rotary position embeddings in attention, a SwiGLU MLP
// (`mlp.w1/w2/w3` or `mlp.fc1_g/fc1_x`) and sub-LayerNorms (`mlp.ffn_ln`, `mlp.norm`), none of which the
// ViT graph builds yet.

import type { LayoutFamily } from '../layoutFamily';
import { emptyDraft } from '../layoutFamily';
import { timmPrefix } from '../timmLayout';

export const eva02Family: LayoutFamily = {
  label: 'EVA-02 (summary only)',
  reads: 'weights',
  match(ctx) {
    const prefix = timmPrefix(ctx);
    if (prefix === undefined) return undefined;
    const b0 = `${prefix}blocks.0.`;
    const swiglu = ['mlp.w1.weight', 'mlp.w12.weight', 'mlp.fc1_g.weight'].some((k) => ctx.get(`${b0}${k}`) !== undefined);
    const rope = ctx.names.some((n) => n.startsWith(prefix) && /(^|\.)rope\./.test(n.slice(prefix.length)));
    const splitQkv = ctx.get(`${b0}attn.q_proj.weight`) !== undefined;
    return (swiglu && splitQkv) || rope ? { prefix } : undefined;
  },
  build(ctx, m) {
    const d = emptyDraft('eva02');
    const P = m.prefix;
    const pw = ctx.shape(`${P}patch_embed.proj.weight`);
    if (pw && pw.length === 4) {
      d.dim = pw[0] as number;
      d.patchSize = [pw[2] as number, pw[3] as number];
    }
    d.layers = ctx.countIndexed(`${P}blocks.`);
    d.specialTokens = ctx.get(`${P}cls_token`) ? 1 : 0;
    if (P) d.details['prefix'] = P;
    d.notAnalyzable = 'EVA-02 is recognised but not analyzable yet: its rotary position embedding (RoPE) in attention, SwiGLU MLP and sub-LayerNorms are not built by the ViT graph; export it to ONNX with eager attention to analyse it';
    return d;
  },
};
