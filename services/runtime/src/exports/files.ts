import { createReadStream, createWriteStream, type ReadStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';

const PARTIAL = '.partial';

/**
 * Export files under one directory, named `<prefix>-<exportId>.<ext>` so several Portraits (and test
 * runs) can share it. A file is written under a `.partial` name and renamed once complete, so a
 * download never sees half a file.
 */
export class ExportFiles {
  /** `<prefix>-<uuid>.<ext>.partial`, and not another prefix that merely starts with this one. */
  private readonly ownPartial: RegExp;

  constructor(
    readonly dir: string,
    private readonly prefix: string,
  ) {
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.ownPartial = new RegExp(`^${escaped}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.[a-z]+\\${PARTIAL}$`);
  }

  async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  fileName(exportId: string, extension: string): string {
    return `${this.prefix}-${exportId}.${extension}`;
  }

  pathOf(fileName: string): string {
    return path.join(this.dir, path.basename(fileName));
  }

  /** Opens the partial file for writing. */
  async openPartial(fileName: string): Promise<WriteStream> {
    await this.ensureDir();
    const out = createWriteStream(this.pathOf(fileName) + PARTIAL, { flags: 'w' });
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
    return out;
  }

  /** Flushes and closes the partial file, then gives it its final name; answers its size. */
  async complete(out: WriteStream, fileName: string): Promise<number> {
    out.end();
    await finished(out);
    await rename(this.pathOf(fileName) + PARTIAL, this.pathOf(fileName));
    return (await stat(this.pathOf(fileName))).size;
  }

  /** Closes and removes a partial file (a cancelled or failed job). */
  async discard(out: WriteStream | undefined, fileName: string): Promise<void> {
    if (out && !out.destroyed) {
      out.destroy();
      await finished(out).catch(() => undefined);
    }
    await rm(this.pathOf(fileName) + PARTIAL, { force: true });
  }

  async remove(fileName: string): Promise<void> {
    await rm(this.pathOf(fileName), { force: true });
  }

  /** The finished file for reading, with its size; undefined when it is not there. */
  async open(fileName: string): Promise<{ stream: ReadStream; size: number } | undefined> {
    try {
      const { size } = await stat(this.pathOf(fileName));
      return { stream: createReadStream(this.pathOf(fileName)), size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async exists(fileName: string): Promise<boolean> {
    return stat(this.pathOf(fileName)).then(
      () => true,
      () => false,
    );
  }

  /** Partial files of this prefix untouched for `olderThanMs` (left by a process that died mid-export). */
  async removeStalePartials(olderThanMs: number, nowMs: number): Promise<string[]> {
    const removed: string[] = [];
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!this.ownPartial.test(name)) continue;
      const file = path.join(this.dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info && nowMs - info.mtimeMs > olderThanMs) {
        await rm(file, { force: true });
        removed.push(name);
      }
    }
    return removed;
  }
}
