// `npm run test:vscode`: builds the extension and the extension-host suite, then runs the suite in a
// VS Code that @vscode/test-electron downloads (needs internet; not part of offline CI).
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..', '..');
const b = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'es2022', sourcemap: 'inline', logLevel: 'warning' };
await Promise.all([
  build({ ...common, entryPoints: [join(root, 'test/vscode/suite/index.ts')], outfile: join(root, 'out/vscode-tests/index.js'), external: ['vscode'] }),
  build({ ...common, entryPoints: [join(root, 'test/vscode/electronMain.ts')], outfile: join(root, 'out/vscode-tests/electronMain.js'), external: ['@vscode/test-electron'] }),
]);
const r = spawnSync(process.execPath, ['--enable-source-maps', join(root, 'out/vscode-tests/electronMain.js')], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
