import { z } from 'zod';
import { CONSENT_CHANNELS, type ConsentChannel } from '../consent-channels';
import { consentField } from '../profile-fields';
import type { Issue } from '../errors';
import { toIssues } from '../validation';
import { CALLING_CODE } from '../identifiers';
import { EXPORT_FIELD_NAMES, type ExportField } from './fields';

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Consent channels an export can require: all of them. */
export const EXPORT_CONSENTS = CONSENT_CHANNELS;
export type ExportConsent = ConsentChannel;

export const EXPORT_LIMITS = { maxFields: EXPORT_FIELD_NAMES.length } as const;

const list = (items: readonly string[]): string => items.join(', ');
/** "is required" for a missing key, else what is expected. */
const expected = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : what) });

const Field = z.string(expected('must be a field name')).refine((f): f is ExportField => (EXPORT_FIELD_NAMES as string[]).includes(f), {
  error: (issue) => `${JSON.stringify(issue.input)} is not an exportable field; use one of ${list(EXPORT_FIELD_NAMES)}`,
});

const Consent = z.enum(EXPORT_CONSENTS, { error: `must be a consent channel: ${list(EXPORT_CONSENTS)}` });

/**
 * What to export from a segment. `consent` keeps only members who gave every listed consent;
 * `hashIdentifiers` writes e-mail and phone only as SHA-256 hex (`email` becomes `emailSha256`, `phone`
 * becomes `phoneSha256`); `defaultCallingCode` completes phones stored without a country code.
 */
export const ExportRequestSchema = z.strictObject(
  {
    format: z.enum(EXPORT_FORMATS, { error: `must be one of ${list(EXPORT_FORMATS)}` }).default('csv'),
    fields: z
      .array(Field, expected('must be a list of field names, e.g. ["userId", "emailSha256"]'))
      .min(1, 'must name at least one field')
      .max(EXPORT_LIMITS.maxFields, `must name at most ${EXPORT_LIMITS.maxFields} fields`)
      .superRefine((fields, ctx) => {
        fields.forEach((f, i) => {
          if (fields.indexOf(f) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${f} is listed twice`, input: f });
        });
      })
      .transform((fields) => fields as ExportField[]),
    consent: z
      .union([Consent, z.array(Consent)], { error: `must be a channel or a list of channels: ${list(EXPORT_CONSENTS)}` })
      .optional()
      .transform((c) => (c === undefined ? [] : [...new Set(Array.isArray(c) ? c : [c])])),
    hashIdentifiers: z.boolean({ error: 'must be true or false' }).default(false),
    defaultCallingCode: z
      .string({ error: 'must be a string of digits' })
      .regex(CALLING_CODE, 'must be a country calling code without + or 00, e.g. "49"')
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? 'is not a key of an export request; expected format, fields, consent, hashIdentifiers, defaultCallingCode'
        : issue.code === 'invalid_type'
          ? 'must be a JSON object: { format, fields, consent, hashIdentifiers, defaultCallingCode }'
          : undefined,
  },
);

export type ExportRequest = z.output<typeof ExportRequestSchema>;
export type ExportRequestInput = z.input<typeof ExportRequestSchema>;

/** Validates an export request; every issue names its path (an unknown key at the key itself), under `base`. */
export function parseExportRequest(
  raw: unknown,
  base: readonly (string | number)[] = [],
): { ok: true; value: ExportRequest } | { ok: false; issues: Issue[] } {
  const parsed = ExportRequestSchema.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, issues: toIssues(parsed.error, base) };
}

/** The Elasticsearch filter a consent requirement adds to the segment query (plain JSON, as `compileSegment`). */
export function consentFilter(consent: readonly ExportConsent[]): Record<string, unknown>[] {
  return consent.map((c) => ({ term: { [consentField(c)]: true } }));
}

/** The segment query narrowed by the consent requirement. */
export function exportQuery(segmentQuery: Record<string, unknown>, consent: readonly ExportConsent[]): Record<string, unknown> {
  return consent.length === 0 ? segmentQuery : { bool: { filter: [segmentQuery, ...consentFilter(consent)] } };
}
