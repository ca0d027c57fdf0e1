import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunConfig } from '@nextlong/core';
import type { Stage } from './run-state.js';
import type { ChildMessage, ParentMessage } from './shard-process.js';
import type { ShardStats } from './stats.js';

/** A way to run one shard at a time: in this process, or in a child process. */
export interface ShardRunner {
  run(stage: Stage, shardId: string, onProgress: (n: number) => void): Promise<ShardStats>;
  close(): Promise<void>;
}

function childScript(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), 'shard-process.js');
}

/** False when running from sources (tests): there is no built child script to fork. */
export function canFork(): boolean {
  return existsSync(childScript());
}

/**
 * One shard process, kept for the whole run: it loads model, tokenizer and index once (model
 * and tokenizer from the config, while this process plans) and runs every stage's shards. A
 * process that died (killed, out of memory) fails the shard it ran and is replaced for the next.
 */
export class ChildLane implements ShardRunner {
  private child: ChildProcess;
  constructor(private readonly config: RunConfig) {
    this.child = this.start();
  }

  private start(): ChildProcess {
    const child = fork(childScript(), [this.config.out], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    // a failed spawn or send ends in 'exit' or fails the running shard below: never crash the parent
    child.on('error', () => undefined);
    child.send({ type: 'preload', config: this.config } satisfies ParentMessage);
    return child;
  }

  /** The shard process's pid (a new one after a replacement). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The child process, a new one when the last one died. */
  private live(): ChildProcess {
    if (!this.child.connected) this.child = this.start();
    return this.child;
  }

  run(stage: Stage, shardId: string, onProgress: (n: number) => void): Promise<ShardStats> {
    const child = this.live();
    return new Promise<ShardStats>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        finish(() => reject(new Error(`shard process exited with ${signal ? `signal ${signal}` : `code ${code}`}`)));
      const onError = (err: Error) => finish(() => reject(err));
      const onMessage = (m: ChildMessage) => {
        if (m.type === 'progress') onProgress(m.units);
        else if (m.type === 'done') finish(() => resolve(m.stats as ShardStats));
        else finish(() => reject(Object.assign(new Error(m.message), { name: m.name })));
      };
      const finish = (f: () => void) => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.off('error', onError);
        f();
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.on('error', onError);
      child.send({ type: 'run', stage, shardId } satisfies ParentMessage);
    });
  }

  close(): Promise<void> {
    const c = this.child;
    return new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null || !c.connected) return resolve();
      c.once('exit', () => resolve());
      c.disconnect();
    });
  }
}
