// Decodes @pmndrs/assets' HDRI panoramas (OpenEXR, DWAB-compressed, base64 in an ES module) to raw
// float32 RGBA files `<name>.f32` (512×256, row 0 = top) for makeProbes.py. Run by makeProbes.sh with
// `three` (its EXRLoader) installed in a scratch folder; neither package is a dependency of the project.
//   node decodeHdri.mjs <@pmndrs/assets package folder> <out folder> <scratch folder with node_modules/three>
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [assets, out, scratch] = process.argv.slice(2);
const req = createRequire(join(scratch, 'package.json'));
const THREE = await import(pathToFileURL(req.resolve('three')).href);
const { EXRLoader } = await import(pathToFileURL(join(scratch, 'node_modules/three/examples/jsm/loaders/EXRLoader.js')).href);
for (const f of readdirSync(join(assets, 'hdri')).filter((n) => n.endsWith('.exr.js')).sort()) {
  const src = readFileSync(join(assets, 'hdri', f), 'utf8');
  const bytes = Buffer.from(src.split('base64,')[1].split("'")[0], 'base64');
  const loader = new EXRLoader();
  loader.setDataType(THREE.FloatType);
  const r = loader.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const name = f.replace('.exr.js', '');
  writeFileSync(join(out, `${name}.f32`), Buffer.from(r.data.buffer));
  console.log(`${name}: ${r.width}x${r.height}`);
}
