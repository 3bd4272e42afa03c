/** The action's post step (action.yml `runs.post`, bundled to dist/post/index.mjs): cleanup that only warns. */
import { runPost } from './run-post.js';

await runPost();
process.exit();
