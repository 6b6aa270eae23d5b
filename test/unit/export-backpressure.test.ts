import { Writable } from 'node:stream';
import { writeOrWait } from '@portrait/runtime';

/** A destination that holds every write until `release()` is called: the highWaterMark fills at once. */
function slowSink(): { sink: Writable; written: string[]; release: () => void } {
  const written: string[] = [];
  let pending: (() => void)[] = [];
  const sink = new Writable({
    highWaterMark: 8,
    decodeStrings: false,
    write(chunk: string, _enc, done) {
      written.push(chunk);
      pending.push(done);
    },
  });
  return {
    sink,
    written,
    release: () => {
      const p = pending;
      pending = [];
      p.forEach((done) => done());
    },
  };
}

describe('writeOrWait', () => {
  it('resolves at once while the destination has room', async () => {
    const { sink } = slowSink();
    await expect(writeOrWait(sink, 'abc')).resolves.toBe(true);
  });

  it('waits for drain once write() returns false, then goes on', async () => {
    const { sink, written, release } = slowSink();
    let settled = false;
    const waiting = writeOrWait(sink, 'more than eight bytes').then((ok) => {
      settled = true;
      return ok;
    });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    expect(written).toEqual(['more than eight bytes']);
    release();
    await expect(waiting).resolves.toBe(true);
  });

  it('answers false when the destination closes while it waits, and at once when it is already gone', async () => {
    const { sink } = slowSink();
    const waiting = writeOrWait(sink, 'more than eight bytes');
    sink.destroy();
    await expect(waiting).resolves.toBe(false);
    await expect(writeOrWait(sink, 'x')).resolves.toBe(false);
  });
});
