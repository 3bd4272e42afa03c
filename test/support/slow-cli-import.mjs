// `node --import` this: loading the CLI's modules (lib/cli/main.js) takes 3 s longer, so a
// test can signal the CLI while it is still loading, every time. Two ways, as Node loads:
// ATOCORE_DRILL_TEST_SLOW_LOAD=block  the load itself is slow; Node's event loop does not
//                                     turn meanwhile (Node 24 loads a module graph in one go)
// ATOCORE_DRILL_TEST_SLOW_LOAD=await  the module awaits before it is done; the event loop
//                                     turns meanwhile (as when loading is asynchronous)
import { register } from 'node:module';

const MODE = process.env.ATOCORE_DRILL_TEST_SLOW_LOAD === 'await' ? 'await' : 'block';
const DELAY_MS = 3000;

register(
  `data:text/javascript,${encodeURIComponent(`
    export async function load(url, context, nextLoad) {
      const loaded = await nextLoad(url, context);
      if (!url.endsWith('/lib/cli/main.js')) return loaded;
      if (${JSON.stringify(MODE)} === 'block') {
        await new Promise((resolve) => setTimeout(resolve, ${DELAY_MS}));
        return loaded;
      }
      const source = 'await new Promise((resolve) => setTimeout(resolve, ${DELAY_MS}));\\n' + String(loaded.source);
      return { ...loaded, source, shortCircuit: true };
    }
  `)}`,
);
