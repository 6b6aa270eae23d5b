/**
 * Contact data masked for people reading tool output: enough to recognise a record (the first letter and the
 * domain of an e-mail, the last two digits of a phone), never enough to use it.
 */

/** Field names whose string values are contact data, wherever they sit in a payload. */
export const CONTACT_FIELDS: ReadonlySet<string> = new Set(['email', 'phone']);

/** `j…@example.com` for an e-mail; a local part of one character is masked whole. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return mask(email);
  const local = [...email.slice(0, at)];
  return `${local.length > 1 ? local[0] : ''}…@${email.slice(at + 1)}`;
}

/** `…42` for a phone: its last two digits, when it has at least six; else nothing of it. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return digits.length >= 6 ? `…${digits.slice(-2)}` : mask(phone);
}

function mask(text: string): string {
  return text === '' ? '' : '…';
}

/** A copy of a JSON-like value with every `email` and `phone` string masked, at any depth. */
export function maskContacts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskContacts);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const masked =
      typeof inner === 'string' && CONTACT_FIELDS.has(key) ? (key === 'email' ? maskEmail(inner) : maskPhone(inner)) : maskContacts(inner);
    Object.defineProperty(out, key, { value: masked, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A URL for logs and messages: its password, if it carries one, replaced by `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}
