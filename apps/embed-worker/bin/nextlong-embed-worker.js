#!/usr/bin/env node
// The embed worker's composition root: `nextlong worker --stage embed` (--redis, --concurrency, --metrics).
import { main } from '@nextlong/cli';

process.exit(await main(['worker', '--stage', 'embed', ...process.argv.slice(2)]));
