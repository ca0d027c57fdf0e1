#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// the AWS SDK warns on every process about Node 20's end of support; we pin a version that supports it
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('nextlong: not built yet; run `npm ci` (or `npm run build`) at the repository root');
  process.exit(2);
}
const { main: run } = await import(main.href);
// exit explicitly: pooled sockets (S3, Redis) and model threads must not keep a finished command alive
process.exit(await run(process.argv.slice(2)));
