/**
 * Gathers the events of many concurrently running jobs into one fold-and-write. Live traffic arrives
 * as many small batches in which a user rarely appears twice, so writing per job would rewrite most
 * profiles once per event; merged over a few tens of milliseconds, a shopper's session becomes one write.
 * Each job still succeeds or fails on its own promise, so BullMQ keeps owning locks, retries and stalls.
 */
export interface CoalescerOptions {
  /** Flush as soon as this many events are waiting. */
  maxEvents: number;
  /** Otherwise flush this long after the first event arrived. */
  lingerMs: number;
  /** Flushes running at once; more submissions wait and grow the next flush. */
  parallelFlushes: number;
}

interface Entry<T, R> {
  value: T;
  size: number;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class Coalescer<T, R> {
  private pending: Entry<T, R>[] = [];
  private pendingItems = 0;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: CoalescerOptions,
    /** How many events a submission carries. */
    private readonly sizeOf: (value: T) => number,
    /** Applies the merged submissions; returns one result per submission, in order, or throws for all. */
    private readonly apply: (values: T[]) => Promise<R[]>,
  ) {}

  submit(value: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const size = this.sizeOf(value);
      this.pending.push({ value, size, resolve, reject });
      this.pendingItems += size;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.pending.length === 0 || this.running >= this.options.parallelFlushes) return;
    if (this.pendingItems >= this.options.maxEvents) {
      this.flush();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.options.lingerMs);
    }
  }

  private flush(): void {
    if (this.running >= this.options.parallelFlushes || this.pending.length === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const entries: Entry<T, R>[] = [];
    let taken = 0;
    while (this.pending.length > 0 && (entries.length === 0 || taken + this.pending[0]!.size <= this.options.maxEvents)) {
      const entry = this.pending.shift()!;
      entries.push(entry);
      taken += entry.size;
    }
    this.pendingItems -= taken;
    this.running++;
    this.apply(entries.map((e) => e.value))
      .then(
        (results) => entries.forEach((e, i) => e.resolve(results[i]!)),
        (error: unknown) => entries.forEach((e) => e.reject(error)),
      )
      .finally(() => {
        this.running--;
        this.schedule();
      });
    this.schedule();
  }
}
