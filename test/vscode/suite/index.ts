// Entry of the extension-host suite: VS Code requires this module (extensionTestsPath) and awaits run().
import { runChecks } from './runner';
import './checks';

export async function run(): Promise<void> {
  await runChecks();
}
