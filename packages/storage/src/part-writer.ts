import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { CompressStream } from 'zstd-napi';

/**
 * Streams JSON lines into a zstd-compressed temporary file; `finish()` returns its path for
 * the object store to take. Memory stays bounded whatever the part's size.
 */
export class JsonlZstWriter {
  private readonly zs = new CompressStream({ compressionLevel: 3 });
  private readonly file: WriteStream;
  private closed = false;
  count = 0;

  private constructor(readonly tmpPath: string) {
    this.file = createWriteStream(tmpPath);
    this.zs.pipe(this.file);
  }

  static async create(tmpDir: string, name: string): Promise<JsonlZstWriter> {
    await mkdir(tmpDir, { recursive: true });
    return new JsonlZstWriter(path.join(tmpDir, `${name}.${process.pid}.${Date.now()}.tmp`));
  }

  async write(obj: unknown): Promise<void> {
    this.count++;
    if (!this.zs.write(JSON.stringify(obj) + '\n')) await once(this.zs, 'drain');
  }

  async finish(): Promise<string> {
    this.closed = true;
    this.zs.end();
    await once(this.file, 'close');
    return this.tmpPath;
  }

  async abort(): Promise<void> {
    if (!this.closed) {
      this.zs.destroy();
      this.file.destroy();
    }
    await rm(this.tmpPath, { force: true });
  }
}
