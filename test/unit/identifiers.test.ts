import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { checkEmail, checkPhone, hashEmail, hashPhone, hashPhoneDigits, normalizeEmail, normalizePhone, sha256Hex } from '@portrait/shared';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const E164 = /^\+[1-9][0-9]{6,14}$/;

/** Strings as JSON can carry them: any UTF-16 code unit, lone surrogates included. */
const codeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength: 80 });
const hostile = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), codeUnits, fc.string({ unit: 'grapheme', maxLength: 40 }));
const callingCode = fc.option(fc.constantFrom('1', '33', '39', '44', '49', '353', '0', '049', '1234', 'x'), { nil: undefined });

describe('checkEmail', () => {
  it.each([
    [' Jane.Doe@Example.COM ', 'jane.doe@example.com'],
    ['\tJANE@EXAMPLE.COM\r\n', 'jane@example.com'],
    ['\u00a0jane@example.com\u3000', 'jane@example.com'],
    ['\ufeffjane@example.com', 'jane@example.com'],
    ['Jane+Newsletter@Example.com', 'jane+newsletter@example.com'],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ['jane@xn--mller-kva.de', 'jane@müller.de'],
    ['Jane@XN--MLLER-KVA.DE', 'jane@müller.de'],
    ['JÖRG@Müller.DE', 'jörg@müller.de'],
    ['jo\u0308rg@example.de', 'j\u00f6rg@example.de'],
    ['user@localhost', 'user@localhost'],
  ])('normalizes %j to %j', (raw, normalized) => {
    expect(checkEmail(raw)).toEqual({ ok: true, value: normalized });
  });

  it.each([
    ['jane doe@example.com', 'contains whitespace'],
    ['jane@exam ple.com', 'contains whitespace'],
    ['Jane Doe <jane@example.com>', 'contains whitespace'],
    ['jane\u200b@example.com', 'contains a control or invisible character'],
    ['jane\u0000@example.com', 'contains a control or invisible character'],
    ['jane.example.com', 'has no @'],
    ['jane@@example.com', 'has more than one @'],
    ['jane@example@com', 'has more than one @'],
    ['@example.com', 'has nothing before the @'],
    ['jane@', 'has nothing after the @'],
    ['jane@example..com', 'has an empty label in its domain'],
    ['jane@example.com.', 'has an empty label in its domain'],
    ['jane@.example.com', 'has an empty label in its domain'],
    ['jane@xn--zz.com', 'has a domain label that is not valid punycode'],
    [`${'a'.repeat(250)}@x.io`, 'is longer than 254 characters'],
    ['', 'is empty'],
    ['   ', 'is empty'],
    [42, 'must be a string'],
    [null, 'must be a string'],
    [['a@b.c'], 'must be a string'],
  ])('refuses %j: %s', (raw, reason) => {
    const checked = checkEmail(raw);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toContain(reason);
    expect(normalizeEmail(raw)).toBeUndefined();
  });

  it('hashes to the documented test vector ("TEST@test.com " -> sha256("test@test.com"))', () => {
    expect(hashEmail('TEST@test.com ')).toBe('f660ab912ec121d1b1e928a0bb4bc61b15f5ad44d5efdc4e1c92a25e99b8e44a');
  });

  const local = fc.stringMatching(/^[a-z0-9._%+-]{1,20}$/);
  const domain = fc.stringMatching(/^[a-z0-9-]{1,15}\.[a-z]{2,6}$/);
  const email = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);
  const whitespace = fc
    .array(fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u2009', '\ufeff'), { maxLength: 3 })
    .map((w) => w.join(''));
  const recase = (s: string, mask: boolean[]) => [...s].map((ch, i) => (mask[i % mask.length] ? ch.toUpperCase() : ch)).join('');

  it('hashes the same whatever the case and surrounding whitespace (property)', () => {
    fc.assert(
      fc.property(email, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), whitespace, whitespace, (e, mask, before, after) => {
        expect(hashEmail(`${before}${recase(e, mask)}${after}`)).toBe(sha256(e));
      }),
    );
  });

  /** Address-shaped strings from any characters, so that many of them normalize. */
  const emailish = fc
    .tuple(hostile, fc.constantFrom('@', '@@', ''), hostile, fc.constantFrom('', '.de', '.xn--mller-kva', '.XN--Zz'))
    .map((parts) => parts.join(''));

  it('is idempotent, never throws and always says why it refuses (property)', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, emailish, fc.anything()), (raw) => {
        const checked = checkEmail(raw);
        if (checked.ok) {
          expect(checkEmail(checked.value)).toEqual(checked);
          expect(checked.value).not.toMatch(/\s/);
          expect(checked.value.split('@')).toHaveLength(2);
        } else {
          expect(checked.reason.length).toBeGreaterThan(0);
        }
      }),
    );
  });
});

describe('checkPhone', () => {
  it.each([
    ['+49 (0)170 123-4567', undefined, '+491701234567'],
    ['0049 170 1234567', undefined, '+491701234567'],
    ['0049 (0)170 1234567', undefined, '+491701234567'],
    ['(0170) 1234567', '49', '+491701234567'],
    ['0170/1234567', '49', '+491701234567'],
    ['0170.123.45.67', '49', '+491701234567'],
    ['(0)170 1234567', '49', '+491701234567'],
    ['+49 170 1234567', '1', '+491701234567'],
    ['+49-170-1234567', undefined, '+491701234567'],
    ['+49 (170) 1234567', undefined, '+491701234567'],
    ['\u00a0+49\u2009170\u2009123\u00a04567\u00a0', undefined, '+491701234567'],
    ['\uff0b\uff14\uff19 \uff11\uff17\uff10 \uff11\uff12\uff13\uff14\uff15\uff16\uff17', undefined, '+491701234567'],
    ['+49 30 1234-56', undefined, '+4930123456'],
    ['+44 (0)20 7031 3000', undefined, '+442070313000'],
    ['+44\u00a020\u20107031\u20133000', undefined, '+442070313000'],
    ['+1 (657) 777-0000', undefined, '+16577770000'],
    ['(657) 777-0000', '1', '+16577770000'],
    ['657.777.0000', '1', '+16577770000'],
    ['+33 6 12 34 56 78', undefined, '+33612345678'],
    ['06 12 34 56 78', '33', '+33612345678'],
    ['+39 06 1234 5678', undefined, '+390612345678'],
    ['+353 (0)87 123 4567', undefined, '+353871234567'],
    ['+1234567', undefined, '+1234567'],
    ['+123456789012345', undefined, '+123456789012345'],
  ])('normalizes %j (default calling code %s) to %s', (raw, code, normalized) => {
    expect(checkPhone(raw, code)).toEqual({ ok: true, value: normalized });
  });

  it.each([
    ['0170 1234567', undefined, 'has no country code'],
    ['(657) 777-0000', undefined, 'has no country code'],
    ['0170 1234567', '0049', 'has no country code'],
    ['0170 1234567', '+49', 'has no country code'],
    ['+49 170 1234567 ext. 12', '49', 'carries an extension'],
    ['+49 170 1234567 x12', undefined, 'carries an extension'],
    ['+1 657 777 0000 Ext: 12', undefined, 'carries an extension'],
    ['+1 657 777 0000 #12', undefined, 'carries an extension'],
    ['+1-657-777-0000;ext=12', undefined, 'carries an extension'],
    ['+49 170 CALL-ME', undefined, 'may contain only digits'],
    ['tel:+491701234567', undefined, 'may contain only digits'],
    ['+49 170 1234567 ext', undefined, 'may contain only digits'],
    ['+49 170 +1234567', undefined, 'may have a + only at the start'],
    ['++49 170 1234567', undefined, 'may have a + only at the start'],
    ['+0 170 1234567', undefined, 'has a country code starting with 0'],
    ['0000 170 1234567', undefined, 'has a country code starting with 0'],
    ['+123456', undefined, 'has 6 digits'],
    ['+49 12', '49', 'has 4 digits'],
    ['+1234567890123456', undefined, 'has 16 digits'],
    ['0 12', '49', 'has 4 digits'],
    ['', '49', 'is empty'],
    ['   ', '49', 'is empty'],
    [4915112345678, '49', 'must be a string'],
    [null, undefined, 'must be a string'],
  ])('refuses %j (default calling code %s): %s', (raw, code, reason) => {
    const checked = checkPhone(raw, code as string | undefined);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toContain(reason);
    expect(normalizePhone(raw, code as string | undefined)).toBeUndefined();
  });

  it('hashes with + for Google and digits only for Meta', () => {
    expect(hashPhone('+49 151 12345678')).toBe('536afd523e19dc83fccba822ef5e4ca646111314aaf0aa286667c5bea18dd70b');
    expect(hashPhoneDigits('+49 151 12345678')).toBe('8efb96404be52f6109b9db0f687274a81e9e3cc23fabd6f0da5d38baa3d2facd');
    expect(hashPhone('0151 12345678', '49')).toBe(hashPhone('+4915112345678'));
    expect(hashPhone('not a phone')).toBeUndefined();
  });

  const e164 = fc.tuple(fc.integer({ min: 1, max: 9 }), fc.stringMatching(/^[0-9]{6,14}$/)).map(([first, rest]) => `+${first}${rest}`);
  const spaced = (p: string, cuts: number[], seps: string[]) => {
    let out = '';
    [...p].forEach((ch, i) => {
      out += ch;
      if (i > 0 && cuts.includes(i)) out += seps[i % seps.length];
    });
    return out;
  };

  it('maps any punctuated spelling, or the 00 form, of an E.164 number back to it (property)', () => {
    fc.assert(
      fc.property(
        e164,
        fc.array(fc.integer({ min: 1, max: 15 }), { maxLength: 5 }),
        fc.array(fc.constantFrom(' ', '-', '.', '/', '(', ')', '\u2013', '\u00a0'), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (p, cuts, seps, zeroZero) => {
          const written = spaced(zeroZero ? `00${p.slice(1)}` : p, cuts, seps);
          expect(normalizePhone(written)).toBe(p);
          expect(hashPhone(written)).toBe(sha256Hex(p));
        },
      ),
    );
  });

  /** Phone-shaped strings: digits, signs and separators, with now and then a letter or an extension marker. */
  const phoneish = fc
    .tuple(
      fc.constantFrom('', '+', '00', '0', '+49 (0)'),
      fc.string({
        unit: fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom(...'0123456789') },
          { weight: 3, arbitrary: fc.constantFrom(' ', '-', '.', '/', '(', ')', '\u00a0', '\u2013') },
          { weight: 1, arbitrary: fc.constantFrom('+', '00', '(0)', '\uff10', '\uff0b', 'x', '#', 'ext.', 'a') },
        ),
        maxLength: 24,
      }),
    )
    .map(([start, rest]) => start + rest);

  it('is idempotent, never throws, and gives E.164 with 7 to 15 digits or a reason (property)', () => {
    fc.assert(
      fc.property(fc.oneof(phoneish, hostile, fc.anything()), callingCode, (raw, code) => {
        const checked = checkPhone(raw, code);
        if (checked.ok) {
          expect(checked.value).toMatch(E164);
          // Queued events are validated again without the default: a normalized number needs none.
          expect(checkPhone(checked.value, code)).toEqual(checked);
          expect(checkPhone(checked.value)).toEqual(checked);
        } else {
          expect(checked.reason.length).toBeGreaterThan(0);
        }
      }),
    );
  });
});
