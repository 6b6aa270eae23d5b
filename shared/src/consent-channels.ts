/**
 * The channels a shopper can consent to, in the order profiles, searches and exports list them: the one
 * place to add one (then its mapping under `attributes.consents` in the profile index).
 */
export const CONSENT_CHANNELS = ['email', 'sms', 'push', 'ads', 'personalization'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

/** A profile's consent flags, one per channel. */
export type Consents = Record<ConsentChannel, boolean>;
