import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { hashEmail, hashPhone, hashPhoneDigits, normalizeEmail, normalizePhone, sha256Hex } from '@portrait/shared';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('normalizeEmail', () => {
  it('trims and lower-cases', () => {
    expect(normalizeEmail('  Alice.Smith@Example.COM \n')).toBe('alice.smith@example.com');
  });

  it('drops what is not an address', () => {
    for (const bad of ['', '   ', 'alice', 'alice@', '@example.com', 'a b@example.com', 'a@b@c', 42, null, undefined, ['a@b.c']]) {
      expect(normalizeEmail(bad)).toBeUndefined();
    }
  });

  it('hashes to the documented test vector ("TEST@test.com " -> sha256("test@test.com"))', () => {
    expect(hashEmail('TEST@test.com ')).toBe('f660ab912ec121d1b1e928a0bb4bc61b15f5ad44d5efdc4e1c92a25e99b8e44a');
  });

  const local = fc.stringMatching(/^[a-z0-9._%+-]{1,20}$/);
  const domain = fc.stringMatching(/^[a-z0-9-]{1,15}\.[a-z]{2,6}$/);
  const email = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);
  const whitespace = fc.array(fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0'), { maxLength: 3 }).map((w) => w.join(''));
  const recase = (s: string, mask: boolean[]) => [...s].map((ch, i) => (mask[i % mask.length] ? ch.toUpperCase() : ch)).join('');

  it('hashes the same whatever the case and surrounding whitespace (property)', () => {
    fc.assert(
      fc.property(email, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), whitespace, whitespace, (e, mask, before, after) => {
        expect(hashEmail(`${before}${recase(e, mask)}${after}`)).toBe(sha256(e));
      }),
    );
  });

  it('is idempotent (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const once = normalizeEmail(s);
        if (once !== undefined) expect(normalizeEmail(once)).toBe(once);
      }),
    );
  });
});

describe('normalizePhone', () => {
  it('brings the usual spellings to E.164', () => {
    expect(normalizePhone('+49 151 1234-5678')).toBe('+4915112345678');
    expect(normalizePhone('0049 (151) 12.34.56.78')).toBe('+4915112345678');
    expect(normalizePhone('+49 (0)151 12345678')).toBe('+4915112345678');
    expect(normalizePhone(' +1 (657) 777-0000 ')).toBe('+16577770000');
    expect(normalizePhone('+44\u00a020\u20107031\u20133000')).toBe('+442070313000');
  });

  it('drops a number without a country code unless a default calling code is given', () => {
    expect(normalizePhone('0151 12345678')).toBeUndefined();
    expect(normalizePhone('0151 12345678', '49')).toBe('+4915112345678');
    expect(normalizePhone('(657) 777-0000', '1')).toBe('+16577770000');
    expect(normalizePhone('0151 12345678', '0049')).toBeUndefined();
  });

  it('requires 7 to 15 digits after a + and no leading 0 country code, as ingest does', () => {
    expect(normalizePhone('+123456')).toBeUndefined();
    expect(normalizePhone('+1234567')).toBe('+1234567');
    expect(normalizePhone('+12345678')).toBe('+12345678');
    expect(normalizePhone('+123456789012345')).toBe('+123456789012345');
    expect(normalizePhone('+1234567890123456')).toBeUndefined();
    expect(normalizePhone('+0151234567')).toBeUndefined();
    expect(normalizePhone('+49 151 CALL-ME')).toBeUndefined();
    expect(normalizePhone(4915112345678)).toBeUndefined();
  });

  it('hashes with + for Google and digits only for Meta', () => {
    expect(hashPhone('+49 151 12345678')).toBe('536afd523e19dc83fccba822ef5e4ca646111314aaf0aa286667c5bea18dd70b');
    expect(hashPhoneDigits('+49 151 12345678')).toBe('8efb96404be52f6109b9db0f687274a81e9e3cc23fabd6f0da5d38baa3d2facd');
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
        fc.array(fc.constantFrom(' ', '-', '.', '/', '(', ')', '\u2013'), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (p, cuts, seps, zeroZero) => {
          const written = spaced(zeroZero ? `00${p.slice(1)}` : p, cuts, seps);
          expect(normalizePhone(written)).toBe(p);
          expect(hashPhone(written)).toBe(sha256Hex(p));
        },
      ),
    );
  });

  it('never returns anything but E.164 (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.constantFrom('1', '49', '353')), (s, cc) => {
        const p = normalizePhone(s, cc ?? undefined);
        if (p !== undefined) expect(p).toMatch(/^\+[1-9][0-9]{6,14}$/);
      }),
    );
  });
});
