import { homedir } from 'node:os';
import path from 'node:path';

/** Per-machine cache root (static model, tokenizer ranks): `$NEXTLONG_CACHE`, else `~/.cache/nextlong`. */
export function nextlongCacheDir(): string {
  return process.env.NEXTLONG_CACHE || path.join(homedir(), '.cache', 'nextlong');
}
