import { parseArgs } from 'node:util';
import { configKeys, isConfigError, logger, setupLogging } from '@nextlong/core';
import { chunkCommand } from './chunk-command.js';
import { coordinatorCommand, redisUrlOf, workerCommand } from './fleet-commands.js';
import { isBooleanKey, kebab, resolveRunConfig } from './config-resolve.js';
import { COMMAND_HELP, HELP } from './help.js';

const RUN_OPTIONS = Object.fromEntries([
  ...configKeys.map((k) => [
    kebab(k),
    isBooleanKey(k) ? { type: 'boolean' as const } : { type: 'string' as const, multiple: k === 'input' || k === 'pool' },
  ]),
  ['config', { type: 'string' as const }],
  ['quiet', { type: 'boolean' as const }],
]);

/** Entry point; returns the exit status (0 ok, 1 failed, 2 usage/configuration). */
export async function main(argv: string[]): Promise<number> {
  let args: string[];
  try {
    args = setupLogging(argv, process.env);
  } catch (err) {
    // no logger without a valid level or format: this one line goes to stderr as it is
    process.stderr.write(`nextlong: ${(err as Error).message}\n`);
    return 2;
  }
  const [cmd, ...rest] = args;
  if (cmd && COMMAND_HELP[cmd] && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(COMMAND_HELP[cmd]);
    return 0;
  }
  try {
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(HELP);
        return 0;
      case 'run':
        return await runCommand(rest);
      case 'chunk':
        return await chunk(rest);
      case 'status':
        return await (await import('./status-command.js')).statusCommand(parse(rest, { out: { type: 'string' }, redis: { type: 'string' }, run: { type: 'string' } }));
      case 'inspect':
        return await (await import('./inspect-command.js')).inspectCommand(
          parse(rest, { out: { type: 'string' }, html: { type: 'string' }, sequences: { type: 'string' }, seed: { type: 'string' }, 'budget-mb': { type: 'string' } }),
        );
      case 'embed': {
        const { EMBED_FLAGS, embedMain } = await import('./embed-command.js');
        return await embedMain(parse(rest, Object.fromEntries(EMBED_FLAGS.map((f) => [f, { type: 'string' as const }]))));
      }
      case 'coordinator':
        return await coordinator(rest);
      case 'worker':
        return await workerCommand(rest);
      default:
        return usage(`unknown command "${cmd}" (see nextlong --help)`);
    }
  } catch (err) {
    if (isConfigError(err) || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return usage((err as Error).message);
    logger().error(`nextlong: ${(err as Error).message}`);
    return 1;
  }
}

function usage(msg: string): number {
  logger().error(`nextlong: ${msg}`);
  return 2;
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse(args: string[], options: Options): Record<string, string | string[] | boolean | undefined> {
  return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string | string[] | boolean | undefined>;
}

async function runCommand(args: string[]): Promise<number> {
  const { quiet, ...flags } = parse(args, RUN_OPTIONS);
  const config = resolveRunConfig(flags as Record<string, string | string[] | boolean | undefined>);
  // loaded here so that --help and chunk start without the model and index libraries
  const { runLocal } = await import('@nextlong/pipeline');
  const { formatSummary } = await import('./summary.js');
  const manifest = await runLocal(config, { quiet: Boolean(quiet) });
  process.stdout.write(formatSummary(manifest));
  return 0;
}

async function coordinator(args: string[]): Promise<number> {
  const { quiet, redis, metrics, ...flags } = parse(args, { ...RUN_OPTIONS, redis: { type: 'string' }, metrics: { type: 'string' } });
  const redisUrl = redisUrlOf({ redis });
  const config = resolveRunConfig(flags as Record<string, string | string[] | boolean | undefined>);
  return coordinatorCommand(redisUrl, config, metrics as string | undefined, Boolean(quiet));
}

async function chunk(args: string[]): Promise<number> {
  const v = parse(args, { 'chunk-chars': { type: 'string' }, 'text-field': { type: 'string' }, 'id-field': { type: 'string' } });
  const chunkChars = Number(v['chunk-chars'] ?? 2048);
  if (!Number.isInteger(chunkChars) || chunkChars < 1) return usage('--chunk-chars must be a positive integer');
  return chunkCommand(
    { chunkChars, textField: (v['text-field'] as string) ?? 'text', idField: (v['id-field'] as string) ?? 'id' },
    process.stdin,
    process.stdout,
    process.stderr,
  );
}
