// bin/dragon.js on the TypeScript sources (run with tsx): the demo's --from-source mode uses it so a
// test checks the code as it is, without a build of dist/ racing another test's `npm start`.
import { runCli } from '../../services/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
