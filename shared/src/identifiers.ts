import { createHash } from 'node:crypto';
import { domainToUnicode } from 'node:url';
import { z } from 'zod';

/**
 * Contact identifiers (e-mail, phone): the one normalization ingest stores, the fold derives from and
 * exports write and hash. Google Customer Match and Meta Custom Audiences hash their own identifiers the
 * same way, so a value only matches when both sides normalized it identically.
 */

/** A normalized value, or why the input cannot be normalized (worded to follow the field's path). */
export type Normalized = { ok: true; value: string } | { ok: false; reason: string };

const refuse = (reason: string): Normalized => ({ ok: false, reason });
const valueOf = (normalized: Normalized): string | undefined => (normalized.ok ? normalized.value : undefined);

/** RFC 5321: the longest address a mail path can carry. */
export const MAX_EMAIL_LENGTH = 254;
/** Control, format (zero-width, bidi marks, soft hyphen), surrogate and private-use characters. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}]/u;

/**
 * E-mail: trimmed, NFC, lower-cased, with any punycode (`xn--`) label of the domain written in Unicode, so
 * `Jane@XN--MLLER-KVA.de` and `jane@müller.de` are one address. Refused: whitespace or invisible characters
 * inside, not exactly one `@`, an empty local part, domain or domain label, more than 254 characters.
 * Deliberately no stricter grammar: anything a shop's mail system delivered to stays deliverable.
 */
export function checkEmail(raw: unknown): Normalized {
  if (typeof raw !== 'string') return refuse('must be a string');
  const text = raw.trim();
  if (text === '') return refuse('is empty; send null to remove an e-mail address');
  if (/\s/.test(text)) return refuse('contains whitespace');
  if (INVISIBLE.test(text)) return refuse('contains a control or invisible character');
  const parts = text.normalize('NFC').toLowerCase().normalize('NFC').split('@');
  if (parts.length !== 2) return refuse(parts.length === 1 ? 'has no @' : 'has more than one @');
  const [local, domain] = parts as [string, string];
  if (local === '') return refuse('has nothing before the @');
  if (domain === '') return refuse('has nothing after the @');
  const labels = domain.split('.');
  if (labels.includes('')) return refuse('has an empty label in its domain (two dots in a row, or a dot at either end)');
  const unicode = labels.map((label) => (label.startsWith('xn--') ? domainToUnicode(label) : label));
  if (unicode.includes('')) return refuse('has a domain label that is not valid punycode (xn--…)');
  const email = `${local}@${unicode.join('.')}`;
  if (email.length > MAX_EMAIL_LENGTH) return refuse(`is longer than ${MAX_EMAIL_LENGTH} characters`);
  return { ok: true, value: email };
}

/** `checkEmail`'s value, or undefined for anything it refuses. */
export function normalizeEmail(raw: unknown): string | undefined {
  return valueOf(checkEmail(raw));
}

/** A country calling code: 1 to 3 digits, no leading zero (49, 1, 353). */
export const CALLING_CODE = /^[1-9][0-9]{0,2}$/;

/** A default calling code in configuration (`INGEST_DEFAULT_CALLING_CODE`, `EXPORT_DEFAULT_CALLING_CODE`). */
export const CallingCodeEnv = z.string().regex(CALLING_CODE, 'a country calling code without + or 00, 1 to 3 digits, e.g. 49');

/** `+`, then 7 to 15 digits, the first not 0. */
const E164 = /^\+[1-9][0-9]{6,14}$/;
/** What people put between digits: spaces (any kind), dashes (and the minus sign), dots, slashes. */
const SEPARATORS = /[\s\-\u2010-\u2015\u2212./]/g;
const PHONE_CHARACTERS = /^[0-9+\s\-\u2010-\u2015\u2212./()]+$/;
/** `ext. 12`, `x12`, `#12`, `;ext=12` (RFC 3966) at the end. */
const EXTENSION = /(?:;\s*ext\s*=|#|(?<![a-z])(?:ext|extn|extension|x)\.?)\s*(?::\s*)?[0-9]+$/i;
const REFUSED_EXAMPLE = 'e.g. +4915112345678';

/**
 * Phone to E.164 (`+4915112345678`). Full-width digits and signs are read as ASCII (NFKC); spaces, dashes,
 * dots, slashes and parentheses are dropped; a leading `00` is the international prefix; the `(0)` some write
 * after the country code (`+49 (0)170 …`) is the national trunk prefix and dropped. A number with neither `+`
 * nor `00` is national: it gets `defaultCallingCode` with one leading trunk `0` removed (right for most of
 * Europe; Italian fixed lines keep their 0, so send those in E.164), and without a default it is refused rather
 * than guessed, since a wrong country hashes to a different person or nobody. An extension is refused, not
 * cut off: the number without it is a switchboard that reaches someone else, or nobody by SMS.
 */
export function checkPhone(raw: unknown, defaultCallingCode?: string): Normalized {
  if (typeof raw !== 'string') return refuse('must be a string');
  const text = raw.normalize('NFKC').trim();
  if (text === '') return refuse('is empty; send null to remove a phone number');
  if (EXTENSION.test(text)) {
    return refuse(
      `carries an extension (ext., x, #); send the number without it, ${REFUSED_EXAMPLE}: an extension is not part of a phone number in E.164`,
    );
  }
  if (!PHONE_CHARACTERS.test(text)) {
    return refuse(`may contain only digits, a leading + or 00, and spaces . - / ( ) between them, ${REFUSED_EXAMPLE}`);
  }
  const compact = text.replace(SEPARATORS, '');
  const international = /^(?:\+|00)/.exec(compact);
  let digits: string;
  if (international) {
    digits = compact
      .slice(international[0].length)
      .replace(/^([0-9]{1,3})\(0\)/, '$1')
      .replace(/[()]/g, '');
  } else if (defaultCallingCode !== undefined && CALLING_CODE.test(defaultCallingCode)) {
    digits = defaultCallingCode + compact.replace(/[()]/g, '').replace(/^0/, '');
  } else {
    return refuse(`has no country code; write it with + or 00 and the country code, ${REFUSED_EXAMPLE}`);
  }
  if (!/^[0-9]*$/.test(digits)) return refuse(`may have a + only at the start, ${REFUSED_EXAMPLE}`);
  if (digits.startsWith('0')) return refuse(`has a country code starting with 0, which none does, ${REFUSED_EXAMPLE}`);
  const phone = `+${digits}`;
  if (!E164.test(phone)) {
    return refuse(
      `has ${digits.length} digit${digits.length === 1 ? '' : 's'} with its country code; a phone number in E.164 has 7 to 15, ${REFUSED_EXAMPLE}`,
    );
  }
  return { ok: true, value: phone };
}

/** `checkPhone`'s value, or undefined for anything it refuses. */
export function normalizePhone(raw: unknown, defaultCallingCode?: string): string | undefined {
  return valueOf(checkPhone(raw, defaultCallingCode));
}

/** Lower-case hex SHA-256 of the UTF-8 bytes. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** SHA-256 of the normalized e-mail (Google Customer Match, Meta Custom Audiences). */
export function hashEmail(raw: unknown): string | undefined {
  const email = normalizeEmail(raw);
  return email === undefined ? undefined : sha256Hex(email);
}

/** SHA-256 of the E.164 form with its `+` (Google Customer Match, TikTok). */
export function hashPhone(raw: unknown, defaultCallingCode?: string): string | undefined {
  const phone = normalizePhone(raw, defaultCallingCode);
  return phone === undefined ? undefined : sha256Hex(phone);
}

/** SHA-256 of the E.164 digits without the `+` (Meta Custom Audiences). */
export function hashPhoneDigits(raw: unknown, defaultCallingCode?: string): string | undefined {
  const phone = normalizePhone(raw, defaultCallingCode);
  return phone === undefined ? undefined : sha256Hex(phone.slice(1));
}
