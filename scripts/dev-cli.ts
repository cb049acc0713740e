// Development launcher: runs the CLI from source with tsx (`npx tsx scripts/dev-cli.ts <command> ...`).
import { main } from '../src/cli/main.js';
process.exitCode = await main(process.argv.slice(2));
