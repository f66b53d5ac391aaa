// `npm run package`: a production build, then a VSIX for the current platform only.
// vsce cannot vary .vscodeignore per target, and in it a `!` line always wins, so this script writes
// the allowlist plus the one platform line to out/package/ and hands that file to vsce (--ignoreFile).
// Usage: node scripts/package.mjs [--target linux-x64] [--out file.vsix] [--no-build]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

// vsce target names are `${platform}-${arch}` for every platform onnxruntime-node ships.
const target = opt('--target') ?? `${process.platform}-${process.arch}`;
const [os, arch] = target.split('-');
const binDir = `node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}`;
if (!existsSync(join(root, binDir))) {
  console.error(`package: onnxruntime-node has no binaries for ${target} (${binDir} is missing)`);
  process.exit(1);
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(opt('--out') ?? join(root, 'out', `${pkg.name}-${target}-${pkg.version}.vsix`));

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`package: ${cmd} ${cmdArgs.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}

const t0 = Date.now();
if (!args.includes('--no-build')) run(process.execPath, ['scripts/build.mjs', '--production']);

mkdirSync(join(root, 'out', 'package'), { recursive: true });
const ignoreFile = join(root, 'out', 'package', `vscodeignore-${target}`);
// The default probe set ships in the VSIX (media/** is allowlisted); refuse to package without it.
const probes = join(root, 'media', 'probes');
const probeImages = existsSync(probes) ? readdirSync(probes).filter((n) => /\.(jpe?g|png)$/i.test(n)) : [];
if (probeImages.length < 48 || !existsSync(join(probes, 'LICENSES.md'))) {
  console.error(`package: media/probes must hold the bundled probe images and LICENSES.md (found ${probeImages.length} images)`);
  process.exit(1);
}

const base = readFileSync(join(root, '.vscodeignore'), 'utf8');
writeFileSync(ignoreFile, `${base}\n# added by scripts/package.mjs for ${target}\n!${binDir}/**\n`);
mkdirSync(resolve(out, '..'), { recursive: true });

run(process.execPath, [
  join(root, 'node_modules/@vscode/vsce/vsce'), 'package',
  '--target', target,
  '--ignoreFile', ignoreFile,
  '--out', out,
  // No repository field (private project): keep README links relative instead of failing on them.
  '--allow-missing-repository', '--no-rewrite-relative-links',
]);
const mb = (statSync(out).size / 1048576).toFixed(1);
console.log(`package: ${out} (${mb} MB, ${target}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
