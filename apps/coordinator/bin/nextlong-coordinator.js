#!/usr/bin/env node
// The coordinator's composition root: `nextlong coordinator` (run flags, --redis, --metrics).
import { main } from '@nextlong/cli';

process.exit(await main(['coordinator', ...process.argv.slice(2)]));
