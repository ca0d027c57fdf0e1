#!/usr/bin/env node
// The synth worker's composition root: `nextlong worker --stage synth` (--redis, --concurrency, --metrics).
import { main } from '@nextlong/cli';

process.exit(await main(['worker', '--stage', 'synth', ...process.argv.slice(2)]));
