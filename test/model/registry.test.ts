// The layout registry: every family file is listed once, and the order resolves the layouts that share
// timm's block names (SimMIM and BEiT before MAE before plain timm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LAYOUT_FAMILIES } from '../../src/model/registry';
import { LayoutContext } from '../../src/model/layoutContext';
import { ckptOf, manifest, listing } from './archManifest';

const root = resolve(__dirname, '..', '..', '..');

test('every file in src/model/families exports one family, and the registry lists it exactly once', () => {
  const dir = join(root, 'src', 'model', 'families');
  const registry = readFileSync(join(root, 'src', 'model', 'registry.ts'), 'utf8');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.equal(files.length, LAYOUT_FAMILIES.length, 'one registry entry per family file');
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    const exported = [...text.matchAll(/export const (\w+Family)\b/g)].map((m) => m[1]);
    assert.equal(exported.length, 1, `${f} exports one family`);
    const name = exported[0]!;
    assert.equal(registry.split(`  ${name},`).length - 1, 1, `${name} is listed once in registry.ts`);
  }
  assert.equal(new Set(LAYOUT_FAMILIES.map((f) => f.label)).size, LAYOUT_FAMILIES.length, 'labels are distinct');
});

test('the first matching family builds the manifest family of each fixture; later ones may also match', () => {
  const timmLike = new Map<string, string[]>();
  for (const e of manifest.models) {
    if (!listing.files[e.file] || e.format === 'onnx') continue;
    const ctx = new LayoutContext(ckptOf(e.file), {});
    const matching = LAYOUT_FAMILIES.filter((f) => f.reads === 'weights' && f.match(ctx) !== undefined);
    if (e.family === 'unknown') {
      assert.equal(matching.length, 0, e.file);
      continue;
    }
    assert.ok(matching[0], `${e.file}: no family matched`);
    const m = matching[0].match(ctx)!;
    assert.equal(matching[0].build(ctx, m).family, e.family, e.file);
    timmLike.set(e.family, matching.map((f) => f.label));
  }
  // BEiT-style files also match the plain timm layout: only the order makes them BEiT.
  assert.deepEqual(timmLike.get('beit')?.slice(-1), ['timm ViT / DeiT']);
  assert.ok((timmLike.get('simmim') ?? []).includes('BEiT'));
});
