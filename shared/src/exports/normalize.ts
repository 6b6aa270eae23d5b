import { createHash } from 'node:crypto';

/**
 * Identifier normalization before hashing, as Google Customer Match and Meta Custom Audiences document
 * it: the platforms hash their own identifiers the same way, so a value only matches when both sides
 * normalized it identically.
 */

/** Local part, one @, domain; no whitespace anywhere once trimmed. Deliberately loose: the source was validated at intake. */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;

/** E-mail: trimmed and lower-cased; undefined for anything that is not an address. */
export function normalizeEmail(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const email = raw.trim().toLowerCase();
  return EMAIL_SHAPE.test(email) ? email : undefined;
}

/** A country calling code: 1 to 3 digits, no leading zero (49, 1, 353). */
export const CALLING_CODE = /^[1-9][0-9]{0,2}$/;

/** `+`, then 7 to 15 digits, the first not 0: the one rule for a phone, at ingest and in exports. */
const E164 = /^\+[1-9][0-9]{6,14}$/;
/** What people put between digits: spaces (any kind), dashes, dots, slashes, parentheses. */
const PHONE_PUNCTUATION = /[\s\-\u2010-\u2015./()]/g;

/**
 * Phone to E.164 (`+4915112345678`). Punctuation is stripped, a leading `00` becomes `+`, and the
 * `(0)` some write after the country code (`+49 (0)151 …`) is dropped. A number without a country
 * code gets `defaultCallingCode` with its national trunk `0` removed (right for most of Europe; Italian
 * fixed lines keep their 0, so send those in E.164); without a default it is dropped (undefined) rather
 * than guessed, since a wrong country hashes to a different person or nobody.
 */
export function normalizePhone(raw: unknown, defaultCallingCode?: string): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let phone = raw.trim().replace(/\(0\)/g, '').replace(PHONE_PUNCTUATION, '');
  if (phone.startsWith('00')) {
    phone = `+${phone.slice(2)}`;
  } else if (!phone.startsWith('+')) {
    if (defaultCallingCode === undefined || !CALLING_CODE.test(defaultCallingCode)) return undefined;
    phone = `+${defaultCallingCode}${phone.replace(/^0/, '')}`;
  }
  return E164.test(phone) ? phone : undefined;
}

/** Lower-case hex SHA-256 of the UTF-8 bytes. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

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
