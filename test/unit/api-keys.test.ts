import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { allows, CreateApiKeySchema, formatApiKey, parseApiKey, SCOPES, type Scope } from '@portrait/shared';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.constantFrom(...PROTOTYPE_NAMES, '\uD800', '\uDFFF', 'ptk_', `ptk_${'0'.repeat(16)}_`, 'x'.repeat(100_000)),
  fc.anything(),
);
const keyParts = fc.record({
  keyId: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex')),
  secret: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url')),
});

describe('API key format', () => {
  it('reads back the id and secret of every key it formats', () => {
    fc.assert(fc.property(keyParts, ({ keyId, secret }) => expect(parseApiKey(formatApiKey(keyId, secret))).toEqual({ keyId, secret })));
  });

  it('refuses anything that is not a whole key, without throwing', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const parsed = parseApiKey(text);
        if (parsed !== undefined) expect(formatApiKey(parsed.keyId, parsed.secret)).toBe(text);
      }),
    );
    const key = formatApiKey(randomBytes(8).toString('hex'), randomBytes(32).toString('base64url'));
    for (const broken of [` ${key}`, `${key}\n`, key.slice(0, -1), `${key}A`, key.toUpperCase(), key.replace('ptk_', 'pk_')])
      expect(parseApiKey(broken)).toBeUndefined();
  });

  it('refuses to format a key from parts of the wrong shape', () => {
    expect(() => formatApiKey('xyz', 'a'.repeat(43))).toThrow(RangeError);
    expect(() => formatApiKey('0'.repeat(16), 'a/b'.repeat(14) + 'c')).toThrow(RangeError);
  });
});

describe('allows', () => {
  it('lets a key through exactly when it holds the scope or admin, and always on an open route', () => {
    fc.assert(
      fc.property(fc.subarray([...SCOPES]), fc.constantFrom<Scope | 'open'>(...SCOPES, 'open'), (granted, needed) => {
        expect(allows(granted, needed)).toBe(needed === 'open' || granted.includes('admin') || granted.includes(needed as Scope));
      }),
    );
  });
});

describe('CreateApiKeySchema', () => {
  it('takes a name, distinct known scopes and an optional expiry', () => {
    expect(CreateApiKeySchema.parse({ name: 'storefront', scopes: ['read'], expiresInDays: 90 })).toEqual({
      name: 'storefront',
      scopes: ['read'],
      expiresInDays: 90,
    });
    for (const bad of [
      { name: '', scopes: ['read'] },
      { name: 'a', scopes: [] },
      { name: 'a', scopes: ['read', 'read'] },
      { name: 'a', scopes: ['root'] },
      { name: 'a', scopes: ['read'], expiresInDays: 0 },
      { name: '__proto__\n', scopes: ['read'] },
      { name: 'a', scopes: ['read'], admin: true },
    ])
      expect(CreateApiKeySchema.safeParse(bad).success).toBe(false);
  });

  it('never accepts a name that could not be printed on one line as an audit actor', () => {
    fc.assert(
      fc.property(hostile, (name) => {
        const parsed = CreateApiKeySchema.safeParse({ name, scopes: ['read'] });
        if (parsed.success) expect(parsed.data.name).toMatch(/^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,99}$/);
      }),
    );
  });
});
