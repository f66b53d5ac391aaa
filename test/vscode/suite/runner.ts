// A tiny sequential test runner for the extension-host suite. VS Code loads the suite module
// inside its extension host and awaits run(); mocha would add a dependency and a global-state
// runner for what here is a dozen awaited checks, so the suite keeps to node:assert and this.

/** One registered check. */
interface SuiteTest {
  name: string;
  fn: () => Promise<void>;
  timeoutMs: number;
}

const tests: SuiteTest[] = [];

/** Registers a check; `timeoutMs` bounds it so a hung command fails the run instead of stalling it. */
export function check(name: string, fn: () => Promise<void>, timeoutMs = 60_000): void {
  tests.push({ name, fn, timeoutMs });
}

/** Runs the registered checks in order, prints TAP-like lines, and rejects if any failed. */
export async function runChecks(log: (line: string) => void = console.log): Promise<void> {
  let failed = 0;
  log(`TAP version 13\n1..${tests.length}`);
  for (const [i, t] of tests.entries()) {
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        t.fn(),
        new Promise<never>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
        }),
      ]);
      log(`ok ${i + 1} - ${t.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      log(`not ok ${i + 1} - ${t.name} (${Date.now() - t0} ms)\n  ${msg.split('\n').join('\n  ')}`);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
  log(`# tests ${tests.length}\n# pass ${tests.length - failed}\n# fail ${failed}`);
  if (failed > 0) throw new Error(`${failed} of ${tests.length} extension-host checks failed`);
}
