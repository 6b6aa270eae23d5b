import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import {
  EXPORT_FIELDS,
  EXPORT_FIELD_NAMES,
  csvHeader,
  csvRecord,
  exportDocValueFields,
  exportEncoder,
  exportQuery,
  exportRow,
  exportRowFromDocValues,
  exportSourcePaths,
  parseExportRequest,
  resolveExportFields,
  sha256Hex,
  type ExportField,
  type ExportFieldSpec,
  type ExportValue,
} from '@portrait/shared';

const profile = {
  userId: 'u-1',
  attributes: { gender: 'female', age: 34, region: 'Bavaria', city: 'München', consents: { email: true, sms: false } },
  contact: { email: ' Alice@Example.com', phone: '+49 151 12345678' },
  purchases: { orders: 3, totalSpend: 129.5, lastPurchaseAt: '2026-11-20T10:00:00.000Z' },
  interests: { topCategories: ['Shoes', 'Books, used', 'Bags|Belts'] },
  lifecycle: { stage: 'active' },
  state: { secret: true },
};

/** What a CSV cell must read back as: the text, behind an apostrophe when it would start a formula. */
const FORMULA = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
const guarded = (v: ExportValue & {}): string => {
  const text = Array.isArray(v) ? v.join('|') : String(v);
  return typeof v !== 'number' && typeof v !== 'boolean' && FORMULA.test(text) ? `'${text}` : text;
};

describe('parseExportRequest', () => {
  it('fills defaults and normalizes consent to a list', () => {
    const parsed = parseExportRequest({ fields: ['userId', 'emailSha256'], consent: 'email' });
    expect(parsed).toEqual({
      ok: true,
      value: { format: 'csv', fields: ['userId', 'emailSha256'], consent: ['email'], hashIdentifiers: false },
    });
    const many = parseExportRequest({ format: 'ndjson', fields: ['userId'], consent: ['email', 'ads', 'email'], hashIdentifiers: true });
    expect(many.ok && many.value).toMatchObject({ format: 'ndjson', consent: ['email', 'ads'], hashIdentifiers: true });
  });

  it('names every bad field with its path', () => {
    const parsed = parseExportRequest(
      {
        format: 'xlsx',
        fields: ['userId', 'state.days', 'userId'],
        consent: 'fax',
        hashIdentifiers: 'yes',
        extra: 1,
        defaultCallingCode: '+49',
      },
      ['body'],
    );
    if (parsed.ok) throw new Error('expected issues');
    const byPath = Object.fromEntries(parsed.issues.map((i) => [i.path, i.reason]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        'body.consent',
        'body.defaultCallingCode',
        'body.extra',
        'body.fields.1',
        'body.fields.2',
        'body.format',
        'body.hashIdentifiers',
      ].sort(),
    );
    expect(byPath['body.fields.1']).toContain('"state.days" is not an exportable field');
    expect(byPath['body.fields.2']).toContain('listed twice');
    expect(byPath['body.format']).toContain('csv, ndjson');
  });

  it('requires fields', () => {
    const parsed = parseExportRequest({ format: 'csv' });
    expect(parsed.ok || parsed.issues).toEqual([{ path: 'fields', reason: 'is required' }]);
    const empty = parseExportRequest({ fields: [] });
    expect(empty.ok || empty.issues[0]!.path).toBe('fields');
    const notObject = parseExportRequest('csv');
    expect(notObject.ok || notObject.issues[0]!.path).toBe('(root)');
  });
});

describe('the field allow-list', () => {
  const mapping = JSON.parse(readFileSync(path.resolve(__dirname, '../../infra/elasticsearch/indices/profiles.json'), 'utf8')).mappings;

  it('reads only paths the profile mapping has, never internal state', () => {
    for (const name of EXPORT_FIELD_NAMES) {
      const spec: ExportFieldSpec = EXPORT_FIELDS[name];
      let node = mapping;
      for (const key of spec.source.split('.')) node = node?.properties?.[key];
      expect({ name, found: node !== undefined }).toEqual({ name, found: true });
      expect(spec.source.startsWith('state')).toBe(false);
      if (spec.hashedAs) expect(EXPORT_FIELD_NAMES).toContain(spec.hashedAs);
    }
  });

  it('swaps raw contact fields for their hashes when identifiers are hashed', () => {
    expect(resolveExportFields(['userId', 'email', 'phone'], false)).toEqual(['userId', 'email', 'phone']);
    expect(resolveExportFields(['userId', 'email', 'phone'], true)).toEqual(['userId', 'emailSha256', 'phoneSha256']);
    expect(resolveExportFields(['email', 'emailSha256'], true)).toEqual(['emailSha256']);
  });

  it('fetches userId and the sources of the columns only', () => {
    expect(exportSourcePaths(['emailSha256', 'phoneSha256', 'attributes.region'])).toEqual([
      'userId',
      'contact.email',
      'contact.phone',
      'attributes.region',
    ]);
  });
});

describe('rows', () => {
  it('builds a row with normalized, hashed and missing values', () => {
    const columns: ExportField[] = [
      'userId',
      'email',
      'emailSha256',
      'phoneSha256',
      'attributes.occupation',
      'interests.topCategories',
      'attributes.consents.email',
    ];
    expect(exportRow(profile, columns)).toEqual([
      'u-1',
      'alice@example.com',
      sha256Hex('alice@example.com'),
      sha256Hex('+4915112345678'),
      undefined,
      ['Shoes', 'Books, used', 'Bags|Belts'],
      true,
    ]);
  });

  it('writes CSV with a header, quoting, joined lists and empty cells', () => {
    const encoder = exportEncoder('csv', [
      'userId',
      'attributes.city',
      'interests.topCategories',
      'attributes.occupation',
      'purchases.totalSpend',
    ]);
    expect(encoder.header()).toBe('userId,attributes.city,interests.topCategories,attributes.occupation,purchases.totalSpend\n');
    expect(encoder.rows([profile])).toBe('u-1,München,"Shoes|Books, used|Bags|Belts",,129.5\n');
    expect(encoder.contentType).toMatch(/^text\/csv/);
  });

  it('writes NDJSON with arrays kept and nulls for missing values, never state', () => {
    const encoder = exportEncoder('ndjson', ['userId', 'interests.topCategories', 'attributes.occupation', 'phone']);
    expect(encoder.header()).toBe('');
    const line = encoder.rows([profile]);
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      userId: 'u-1',
      'interests.topCategories': ['Shoes', 'Books, used', 'Bags|Belts'],
      'attributes.occupation': null,
      phone: '+4915112345678',
    });
    expect(line).not.toContain('secret');
  });

  const cellValue: fc.Arbitrary<ExportValue> = fc.oneof(
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.constantFrom('a,b', '"quoted"', 'line\nbreak', 'cr\r\nlf', ' padded ', '=1+2'),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(undefined),
  );

  it('round-trips through a CSV parser (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(cellValue, { minLength: 3, maxLength: 3 }), { maxLength: 20 }), (rows) => {
        const text = csvHeader(['userId', 'attributes.city', 'attributes.region']) + rows.map((r) => csvRecord(r)).join('');
        const parsed: string[][] = parse(text, { relax_column_count: false });
        expect(parsed[0]).toEqual(['userId', 'attributes.city', 'attributes.region']);
        expect(parsed.slice(1)).toEqual(rows.map((r) => r.map((v) => (v === undefined ? '' : guarded(v)))));
      }),
    );
  });

  it('never writes a blank line for a one-column row with nothing in it', () => {
    expect(csvRecord([undefined])).toBe('""\n');
    expect(parse(csvHeader(['emailSha256']) + csvRecord([undefined]) + csvRecord(['x']))).toEqual([['emailSha256'], [''], ['x']]);
  });

  it('keeps list items apart when they hold no separator (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string().filter((s) => s.length > 0 && !s.includes('|')),
          { minLength: 1, maxLength: 6 },
        ),
        (items) => {
          const parsed = parse(csvRecord([items])) as string[][];
          const cell = parsed[0]![0]!;
          expect((FORMULA.test(items[0]!) ? cell.slice(1) : cell).split('|')).toEqual(items);
        },
      ),
    );
  });
});

describe('exportQuery', () => {
  it('adds one term per required consent to the segment query', () => {
    const segment = { term: { 'attributes.region': 'Bavaria' } };
    expect(exportQuery(segment, [])).toBe(segment);
    expect(exportQuery(segment, ['email', 'ads'])).toEqual({
      bool: {
        filter: [segment, { term: { 'attributes.consents.email': true } }, { term: { 'attributes.consents.ads': true } }],
      },
    });
  });
});

describe('doc-value reads', () => {
  const mapping = JSON.parse(readFileSync(path.resolve(__dirname, '../../infra/elasticsearch/indices/profiles.json'), 'utf8')).mappings;
  const mapped = (field: string): Record<string, unknown> | undefined => {
    let node: any = mapping;
    for (const part of field.split('.')) node = node?.properties?.[part];
    return node;
  };

  it('names only fields the profile mapping keeps single-valued doc values for', () => {
    for (const [name, spec] of Object.entries(EXPORT_FIELDS) as [string, ExportFieldSpec][]) {
      if (!spec.docValue) continue;
      const field = mapped(spec.docValue);
      expect({ name, type: field?.type }).toEqual({ name, type: expect.stringMatching(/^(keyword|integer|long|double|date|boolean)$/) });
      expect({ name, docValues: field?.doc_values }).not.toEqual({ name, docValues: false });
    }
  });

  it('serves a set of columns from doc values only when every column has one', () => {
    expect(exportDocValueFields(['userId', 'emailSha256', 'purchases.totalSpend'])).toEqual([
      'userId',
      'contact.emailSha256',
      'purchases.totalSpend',
    ]);
    expect(exportDocValueFields(['userId', 'email'])).toBeUndefined();
    expect(exportDocValueFields(['userId', 'interests.topCategories'])).toBeUndefined();
    expect(exportDocValueFields(['phoneSha256'])).toBeUndefined();
  });

  it('reads the first doc value of each column and leaves missing ones empty', () => {
    const fields = { userId: ['u1'], 'contact.emailSha256': ['ab'], 'attributes.consents.email': [true], 'purchases.totalSpend': [12.5] };
    expect(
      exportRowFromDocValues(fields, ['userId', 'emailSha256', 'attributes.consents.email', 'purchases.totalSpend', 'attributes.region']),
    ).toEqual(['u1', 'ab', true, 12.5, undefined]);
  });
});

describe('spreadsheet formula injection', () => {
  const encoder = exportEncoder('csv', ['userId', 'attributes.city', 'phone', 'purchases.orders', 'interests.topBrands']);
  const parseOne = (text: string): string[] => (parse(text, { relax_column_count: true }) as string[][])[0]!;

  it('prefixes text cells that would start a formula with an apostrophe, and leaves E.164 phones and numbers alone', () => {
    const doc = {
      userId: '@u',
      attributes: { city: '=HYPERLINK("http://x","click")' },
      contact: { phone: '+4915112345678' },
      purchases: { orders: 3 },
      interests: { topBrands: ['-2+3', 'ok'] },
    };
    expect(parseOne(encoder.rows([doc]))).toEqual(["'@u", `'=HYPERLINK("http://x","click")`, '+4915112345678', '3', "'-2+3|ok"]);
  });

  it('holds for any text: a cell read back is the text itself, or an apostrophe and the text when it starts a formula', () => {
    const starts = fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20', 'a', ' ', '"', '1');
    fc.assert(
      fc.property(starts, fc.string({ maxLength: 30 }), (first, rest) => {
        const city = `${first}${rest}`;
        const [, cell] = parseOne(encoder.rows([{ userId: 'u', attributes: { city } }]));
        expect(cell).toBe(guarded(city));
      }),
    );
  });
});
