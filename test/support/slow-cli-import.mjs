// `node --import` this: loading the CLI's modules (lib/cli/main.js) takes 3 s longer, so a
// test can signal the CLI while it is still loading, every time. Two ways, as Node loads:
// ATOCORE_DRILL_TEST_SLOW_LOAD=block  the load itself is slow; Node's event loop does not
//                                     turn meanwhile (Node 24 loads a module graph in one go)
// ATOCORE_DRILL_TEST_SLOW_LOAD=await  the module awaits before it is done; the event loop
//                                     turns meanwhile (as when loading is asynchronous)
// ATOCORE_DRILL_TEST_SLOW_LOAD=bare   as block, and main.js is a command that handles no
//                                     signals and loads nothing that does (0.5 s, exit 0):
//                                     what the entry does with no one else listening
import { register } from 'node:module';

const MODE = ['await', 'bare'].includes(process.env.ATOCORE_DRILL_TEST_SLOW_LOAD) ? process.env.ATOCORE_DRILL_TEST_SLOW_LOAD : 'block';
const DELAY_MS = 3000;
const BARE_MAIN = 'export async function main() { await new Promise((resolve) => setTimeout(resolve, 500)); return 0; }';

register(
  `data:text/javascript,${encodeURIComponent(`
    export async function load(url, context, nextLoad) {
      if (!url.endsWith('/lib/cli/main.js')) return nextLoad(url, context);
      const mode = ${JSON.stringify(MODE)};
      if (mode === 'bare') {
        await new Promise((resolve) => setTimeout(resolve, ${DELAY_MS}));
        return { format: 'module', source: ${JSON.stringify(BARE_MAIN)}, shortCircuit: true };
      }
      const loaded = await nextLoad(url, context);
      if (mode === 'block') {
        await new Promise((resolve) => setTimeout(resolve, ${DELAY_MS}));
        return loaded;
      }
      const source = 'await new Promise((resolve) => setTimeout(resolve, ${DELAY_MS}));\\n' + String(loaded.source);
      return { ...loaded, source, shortCircuit: true };
    }
  `)}`,
);
