/** The action's main step (action.yml `runs.main`, bundled to dist/main/index.mjs). */
import { runMain } from './run-main.js';

await runMain();
// stray keep-alive handles of libraries must not hold the step open; the exit code is set
process.exit();
