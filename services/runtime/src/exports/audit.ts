import { ExportRecordSchema, NotFoundError, type ExportRecord, type ExportStatus } from '@portrait/shared';
import { errors, withEs, type Client, type estypes } from '../elasticsearch';

const CONFLICT_ROUNDS = 10;

/**
 * The export audit trail in Elasticsearch, one document per export. Status changes are conditional on
 * the document's sequence number, so a cancel and a worker finishing at once never overwrite each other.
 * Reads by id are real-time; listings see a change after the next refresh (a second).
 */
export class ExportAudit {
  constructor(
    private readonly es: Client,
    private readonly alias: string,
  ) {}

  async create(record: ExportRecord): Promise<void> {
    await withEs(() => this.es.create({ index: this.alias, id: record.exportId, document: record }));
  }

  async get(exportId: string): Promise<ExportRecord> {
    return (await this.read(exportId)).record;
  }

  /** Sets fields whatever the status (progress counters, download stamps). */
  async patch(exportId: string, patch: Partial<ExportRecord>): Promise<void> {
    await withEs(() =>
      this.es.update({
        index: this.alias,
        id: exportId,
        doc: { ...patch, updatedAt: new Date().toISOString() },
        retry_on_conflict: CONFLICT_ROUNDS,
      }),
    );
  }

  /**
   * Applies `patch` only while the status is one of `from`; answers the record as written, or undefined
   * (with the record as found) when the status had already moved on.
   */
  async transition(
    exportId: string,
    from: readonly ExportStatus[],
    patch: Partial<ExportRecord>,
  ): Promise<{ ok: true; record: ExportRecord } | { ok: false; record: ExportRecord }> {
    for (let round = 0; ; round++) {
      const { record, seqNo, primaryTerm } = await this.read(exportId);
      if (!from.includes(record.status)) return { ok: false, record };
      const next: ExportRecord = { ...record, ...patch, updatedAt: new Date().toISOString() };
      try {
        await withEs(() =>
          this.es.index({
            index: this.alias,
            id: exportId,
            document: next,
            if_seq_no: seqNo,
            if_primary_term: primaryTerm,
          }),
        );
        return { ok: true, record: next };
      } catch (error) {
        if (!(error instanceof errors.ResponseError && error.statusCode === 409) || round >= CONFLICT_ROUNDS) throw error;
      }
    }
  }

  async list(filter: { segmentId?: string; status?: ExportStatus; actor?: string; size: number }): Promise<ExportRecord[]> {
    const terms: estypes.QueryDslQueryContainer[] = [];
    if (filter.segmentId) terms.push({ term: { segmentId: filter.segmentId } });
    if (filter.status) terms.push({ term: { status: filter.status } });
    if (filter.actor) terms.push({ term: { actor: filter.actor } });
    const res = await withEs(() =>
      this.es.search<ExportRecord>({
        index: this.alias,
        query: { bool: { filter: terms } },
        sort: [{ createdAt: 'desc' }, { exportId: 'asc' }],
        size: filter.size,
      }),
    );
    return res.hits.hits.map((h) => ExportRecordSchema.parse(h._source));
  }

  /** Completed export files whose expiry has passed. */
  async expired(nowMs: number, size = 500): Promise<ExportRecord[]> {
    await withEs(() => this.es.indices.refresh({ index: this.alias }));
    const res = await withEs(() =>
      this.es.search<ExportRecord>({
        index: this.alias,
        query: {
          bool: {
            filter: [
              { term: { status: 'completed' } },
              { term: { kind: 'job' } },
              { range: { expiresAt: { lte: new Date(nowMs).toISOString() } } },
            ],
          },
        },
        sort: [{ expiresAt: 'asc' }],
        size,
      }),
    );
    return res.hits.hits.map((h) => ExportRecordSchema.parse(h._source));
  }

  private async read(exportId: string): Promise<{ record: ExportRecord; seqNo: number; primaryTerm: number }> {
    return withEs(async () => {
      try {
        const res = await this.es.get<ExportRecord>({ index: this.alias, id: exportId });
        return { record: ExportRecordSchema.parse(res._source), seqNo: res._seq_no!, primaryTerm: res._primary_term! };
      } catch (error) {
        if (error instanceof errors.ResponseError && error.statusCode === 404) throw new NotFoundError(`no export ${exportId}`);
        throw error;
      }
    });
  }
}
