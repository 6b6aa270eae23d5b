import fc from 'fast-check';
import { maskContacts, maskEmail, maskPhone } from '@portrait/shared';

const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('__proto__', 'constructor', '\uD800@x', '@', 'a@', '@b', 'x'.repeat(100_000)),
);

describe('maskEmail and maskPhone', () => {
  it('keep what recognises a contact and nothing that reaches it', () => {
    expect(maskEmail('jane.doe@example.com')).toBe('j…@example.com');
    expect(maskEmail('j@example.com')).toBe('…@example.com');
    expect(maskPhone('+49 170 1234567')).toBe('…67');
    expect(maskPhone('12345')).toBe('…');
  });

  it('never return an e-mail’s local part or more than two digits of a phone, whatever the input', () => {
    fc.assert(
      fc.property(hostile, hostile, (local, domain) => {
        const email = `${local}@${domain}`;
        const masked = maskEmail(email);
        if (local.length > 1 && !domain.includes('@')) expect(masked.startsWith(local)).toBe(false);
        expect(masked.length).toBeLessThanOrEqual(email.length + 1);
      }),
    );
    fc.assert(
      fc.property(hostile, (phone) => {
        expect(maskPhone(phone).replace(/\D/g, '').length).toBeLessThanOrEqual(2);
      }),
    );
  });
});

describe('maskContacts', () => {
  it('masks email and phone at any depth and leaves the rest, prototype member names included', () => {
    const payload = JSON.parse(
      '{"userId":"u1","attributes":{"email":"jane@example.com","phone":"+4917012345678","city":"Ulm"},"list":[{"email":"bo@x.de"}],"__proto__":{"email":"p@x.de"}}',
    );
    const masked = maskContacts(payload) as any;
    expect(masked.attributes).toEqual({ email: 'j…@example.com', phone: '…78', city: 'Ulm' });
    expect(masked.list[0].email).toBe('b…@x.de');
    expect(Object.getOwnPropertyDescriptor(masked, '__proto__')?.value).toEqual({ email: '…@x.de' });
    expect(Object.getPrototypeOf(masked)).toBe(Object.prototype);
    expect(JSON.stringify(masked)).not.toMatch(/jane@|12345678|bo@/);
  });

  it('leaves every value that is not a contact string as it was', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        if (!/"(email|phone)"/.test(text)) expect(maskContacts(value)).toEqual(value);
      }),
    );
  });
});
