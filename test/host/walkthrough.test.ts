// Marketplace metadata: the Get Started walkthrough links only commands the extension contributes and
// its media exist; the icon is a 128×128 PNG that ships (media/**).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
interface Step { id: string; description: string; media: { markdown?: string; image?: string }; completionEvents?: string[] }
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  icon?: string;
  keywords?: string[];
  contributes: { commands: Array<{ command: string }>; walkthroughs?: Array<{ id: string; steps: Step[] }> };
};
const commands = new Set(pkg.contributes.commands.map((c) => c.command));

test('the walkthrough links and completion events name contributed commands; its media exist', () => {
  const walk = pkg.contributes.walkthroughs?.[0];
  assert.ok(walk && walk.steps.length >= 3);
  let links = 0;
  for (const step of walk.steps) {
    for (const m of step.description.matchAll(/\(command:([\w.]+)\)/g)) {
      links++;
      assert.ok(commands.has(m[1] as string), `${step.id}: ${m[1]} is not a contributed command`);
    }
    for (const ev of step.completionEvents ?? []) assert.ok(commands.has(ev.replace(/^onCommand:/, '')), `${step.id}: ${ev}`);
    const media = step.media.markdown ?? step.media.image;
    assert.ok(media && existsSync(join(root, media)), `${step.id}: ${media}`);
    assert.ok(media.startsWith('media/'), 'walkthrough media ship with the VSIX (media/**)');
  }
  assert.ok(links >= 3);
});

test('icon: a 128×128 PNG under media/; keywords present', () => {
  assert.equal(pkg.icon, 'media/icon.png');
  const png = readFileSync(join(root, 'media', 'icon.png'));
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  assert.equal(png.readUInt32BE(16), 128);
  assert.equal(png.readUInt32BE(20), 128);
  assert.ok((pkg.keywords ?? []).length >= 5);
});
