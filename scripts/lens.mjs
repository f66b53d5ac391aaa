// `npm run lens -- …`: the built CLI (dist/cli.js), or how to build it when it is missing, instead of
// Node's MODULE_NOT_FOUND stack trace.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('model-lens: not built yet (dist/cli.js is missing); run `npm run build` first (after `npm ci`)\n');
  process.exit(2);
}
const { main } = createRequire(import.meta.url)(cli);
process.exitCode = await main(process.argv.slice(2));
