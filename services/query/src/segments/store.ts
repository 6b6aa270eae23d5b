import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, SegmentSchema, type Segment, type SegmentVersion } from '@portrait/shared';
import { errors, withEs, type Client } from '@portrait/runtime';

export type { Segment, SegmentVersion };

export interface SegmentInput {
  name: string;
  description?: string;
  definition: unknown;
}

/** Canonical JSON (sorted keys), so a re-sent identical definition is not a new version. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * Segment definitions, one document per segment holding every version. Updates are conditional on the
 * document's sequence number, so two analysts saving at once never lose a version.
 */
export class SegmentStore {
  constructor(
    private readonly es: Client,
    private readonly alias: string,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: SegmentInput & { segmentId?: string }): Promise<Segment> {
    const at = new Date(this.now()).toISOString();
    const segmentId = input.segmentId ?? randomUUID();
    const segment: Segment = {
      segmentId,
      name: input.name,
      description: input.description,
      status: 'active',
      version: 1,
      definition: input.definition,
      versions: [{ version: 1, name: input.name, definition: input.definition, createdAt: at }],
      createdAt: at,
      updatedAt: at,
    };
    await withEs(async () => {
      try {
        await this.es.create({ index: this.alias, id: segmentId, document: segment, refresh: 'wait_for' });
      } catch (error) {
        if (error instanceof errors.ResponseError && error.statusCode === 409)
          throw new ConflictError(`segment ${segmentId} already exists`);
        throw error;
      }
    });
    return segment;
  }

  async get(segmentId: string, includeDeleted = false): Promise<Segment> {
    const { segment } = await this.read(segmentId);
    if (segment.status === 'deleted' && !includeDeleted) throw new NotFoundError(`segment ${segmentId} was deleted`);
    return segment;
  }

  async version(segmentId: string, version: number): Promise<SegmentVersion> {
    const segment = await this.get(segmentId, true);
    const found = segment.versions.find((v) => v.version === version);
    if (!found) throw new NotFoundError(`segment ${segmentId} has no version ${version} (latest is ${segment.version})`);
    return found;
  }

  async list(): Promise<Segment[]> {
    const res = await withEs(() =>
      this.es.search<Segment>({ index: this.alias, query: { term: { status: 'active' } }, sort: [{ name: 'asc' }], size: 1000 }),
    );
    return res.hits.hits.map((h) => SegmentSchema.parse(h._source));
  }

  /** Changes name/description in place; a changed definition becomes a new version. */
  async update(segmentId: string, input: SegmentInput): Promise<Segment> {
    const { segment, seqNo, primaryTerm } = await this.read(segmentId);
    if (segment.status === 'deleted') throw new NotFoundError(`segment ${segmentId} was deleted`);
    const at = new Date(this.now()).toISOString();
    const changed = canonical(input.definition) !== canonical(segment.definition);
    const next: Segment = {
      ...segment,
      name: input.name,
      description: input.description,
      updatedAt: at,
      ...(changed
        ? {
            version: segment.version + 1,
            definition: input.definition,
            versions: [
              ...segment.versions,
              { version: segment.version + 1, name: input.name, definition: input.definition, createdAt: at },
            ],
          }
        : {}),
    };
    await this.write(next, seqNo, primaryTerm);
    return next;
  }

  async delete(segmentId: string): Promise<void> {
    const { segment, seqNo, primaryTerm } = await this.read(segmentId);
    if (segment.status === 'deleted') return;
    await this.write({ ...segment, status: 'deleted', updatedAt: new Date(this.now()).toISOString() }, seqNo, primaryTerm);
  }

  private async read(segmentId: string): Promise<{ segment: Segment; seqNo: number; primaryTerm: number }> {
    return withEs(async () => {
      try {
        const res = await this.es.get<Segment>({ index: this.alias, id: segmentId });
        return { segment: SegmentSchema.parse(res._source), seqNo: res._seq_no!, primaryTerm: res._primary_term! };
      } catch (error) {
        if (error instanceof errors.ResponseError && error.statusCode === 404) throw new NotFoundError(`no segment ${segmentId}`);
        throw error;
      }
    });
  }

  private async write(segment: Segment, seqNo: number, primaryTerm: number): Promise<void> {
    await withEs(async () => {
      try {
        await this.es.index({
          index: this.alias,
          id: segment.segmentId,
          document: segment,
          if_seq_no: seqNo,
          if_primary_term: primaryTerm,
          refresh: 'wait_for',
        });
      } catch (error) {
        if (error instanceof errors.ResponseError && error.statusCode === 409) {
          throw new ConflictError(
            `segment ${segment.segmentId} was changed by someone else meanwhile; reload it and apply your change again`,
          );
        }
        throw error;
      }
    });
  }
}
