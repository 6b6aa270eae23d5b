import { z } from 'zod';
import { hashSeed, mulberry32 } from '../mining/random';

/**
 * The item content model: TF-IDF over an item's title, description, category path, brand, tags and price band,
 * fitted on the catalogue, then a fixed random projection to `dims` dimensions (Johnson-Lindenstrauss: cosine
 * similarity survives it closely), L2-normalized, for kNN in a `dense_vector` field.
 *
 * Nothing is downloaded: the fitted state is the vocabulary's inverse document frequencies and the price bands. A
 * token's projection row is drawn from a seeded generator keyed by the token itself, so it needs no storage and every
 * process computes the same vector for the same item from the same state (new items are vectorized as they are
 * upserted). Tokens are namespaced by field (`w:` words, `c:` category prefixes, `b:` brand, `g:` tags, `p:` price
 * band) so a brand never collides with the same word in a title. Item text is user input: tokens are only Map keys.
 */

const weight = z.number().min(0).max(100);

export const ContentParametersSchema = z.strictObject({
  dims: z.number().int().min(8).max(1024).default(256),
  /** Vocabulary kept: the words in the most items among those that pass the bounds. */
  maxTerms: z.number().int().min(1).max(1_000_000).default(50_000),
  /** A word in fewer items is dropped (typos, ids, one-offs). */
  minDocFreq: z.number().int().min(1).max(1_000_000).default(2),
  /** A word in more than this share of items is dropped: the catalogue's own stop words. */
  maxDocFreqShare: z.number().gt(0).max(1).default(0.5),
  /** Price quantile bands fitted on the catalogue. */
  priceBands: z.number().int().min(1).max(50).default(5),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(1),
  weights: z
    .strictObject({
      title: weight.default(3),
      description: weight.default(1),
      category: weight.default(2),
      brand: weight.default(2),
      tags: weight.default(2),
      price: weight.default(1),
    })
    .default({ title: 3, description: 1, category: 2, brand: 2, tags: 2, price: 1 }),
});
export type ContentOptions = z.input<typeof ContentParametersSchema>;
export type ContentParameters = z.output<typeof ContentParametersSchema>;

export const ContentStateSchema = z.strictObject({
  dims: z.number().int().min(8).max(1024),
  seed: z.number().int().min(0),
  /** Items the model was fitted on. */
  items: z.number().int().nonnegative(),
  /** `[token, idf]`, by token in code-unit order. */
  idf: z.array(z.tuple([z.string(), z.number().nonnegative()])),
  /** The idf of a structural token (category, brand, tag, band) the catalogue never had. */
  unseenIdf: z.number().nonnegative(),
  /** Ascending upper bounds of the price bands but the last. */
  priceBounds: z.array(z.number()),
  weights: z.strictObject({ title: weight, description: weight, category: weight, brand: weight, tags: weight, price: weight }),
});
export type ContentState = z.infer<typeof ContentStateSchema>;

export interface ContentItem {
  title: string;
  description?: string;
  category: readonly string[];
  brand?: string;
  tags?: readonly string[];
  price: number;
}

/** Text read per field: enough for any real description, bounded for a hostile one. */
const MAX_TEXT = 20_000;
const PRICE_SAMPLE = 10_000;
const STOP_WORDS = new Set(
  'a an and are as at be by for from has in is it its of on or our that the this to was were will with you your'.split(' '),
);

/** Words of a text: NFKC, lower case, runs of letters, digits and combining marks, two characters or more, no stop word. */
export function words(text: string | undefined): string[] {
  if (!text) return [];
  return (
    text
      .slice(0, MAX_TEXT)
      .normalize('NFKC')
      .toLowerCase()
      .split(/[^\p{L}\p{N}\p{M}]+/u)
      // Combining marks continue a word: without them Hindi or Thai words would break at every vowel sign.
      .filter((w) => w.length >= 2 && !/^\p{M}/u.test(w) && !STOP_WORDS.has(w))
  );
}

/** Category prefixes (`c:Food`, `c:Food>Dairy`), brand, tags and price band: the tokens every item keeps. */
function structuralTokens(
  item: ContentItem,
  priceBounds: readonly number[],
): { token: string; field: keyof ContentState['weights']; depth?: number }[] {
  const out: { token: string; field: keyof ContentState['weights']; depth?: number }[] = [];
  let path = '';
  item.category.slice(0, 10).forEach((part, depth) => {
    path = depth === 0 ? part.toLowerCase() : `${path}>${part.toLowerCase()}`;
    out.push({ token: `c:${path}`, field: 'category', depth });
  });
  if (item.brand) out.push({ token: `b:${item.brand.toLowerCase()}`, field: 'brand' });
  for (const tag of (item.tags ?? []).slice(0, 50)) out.push({ token: `g:${tag.toLowerCase()}`, field: 'tags' });
  out.push({ token: `p:${priceBand(item.price, priceBounds)}`, field: 'price' });
  return out;
}

function priceBand(price: number, bounds: readonly number[]): number {
  let band = 0;
  while (band < bounds.length && price >= bounds[band]!) band++;
  return band;
}

/**
 * Fits the content model on the catalogue, one item at a time (the catalogue is read page by page): the document
 * frequency of every token, and a seeded reservoir of prices for the bands. Memory is the token table.
 */
export class ContentFitter {
  private readonly parameters: ContentParameters;
  private readonly docFreq = new Map<string, number>();
  private readonly prices: number[] = [];
  private readonly rng: () => number;
  private n = 0;

  constructor(options: ContentOptions = {}) {
    this.parameters = ContentParametersSchema.parse(options);
    this.rng = mulberry32(hashSeed(this.parameters.seed, 7));
  }

  get count(): number {
    return this.n;
  }

  add(item: ContentItem): void {
    this.n++;
    const tokens = new Set<string>();
    for (const w of words(item.title)) tokens.add(`w:${w}`);
    for (const w of words(item.description)) tokens.add(`w:${w}`);
    for (const t of structuralTokens(item, [])) if (!t.token.startsWith('p:')) tokens.add(t.token);
    for (const token of tokens) this.docFreq.set(token, (this.docFreq.get(token) ?? 0) + 1);
    if (Number.isFinite(item.price)) {
      if (this.prices.length < PRICE_SAMPLE) this.prices.push(item.price);
      else {
        const slot = Math.floor(this.rng() * this.n);
        if (slot < PRICE_SAMPLE) this.prices[slot] = item.price;
      }
    }
  }

  finish(): ContentState {
    const { maxTerms, minDocFreq, maxDocFreqShare, priceBands, dims, seed, weights } = this.parameters;
    const n = this.n;
    const idf = (df: number) => Math.log((n + 1) / (df + 1)) + 1;
    const wordsKept = [...this.docFreq]
      .filter(([token, df]) => token.startsWith('w:') && df >= minDocFreq && df <= maxDocFreqShare * n)
      .sort(([ta, a], [tb, b]) => b - a || (ta < tb ? -1 : 1))
      .slice(0, maxTerms);
    const structural = [...this.docFreq].filter(([token]) => !token.startsWith('w:'));
    const entries: [string, number][] = [...wordsKept, ...structural].map(([token, df]) => [token, round(idf(df))]);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const sorted = [...this.prices].sort((a, b) => a - b);
    const bounds: number[] = [];
    for (let b = 1; b < priceBands && sorted.length > 0; b++) {
      const bound = sorted[Math.min(sorted.length - 1, Math.floor((b * sorted.length) / priceBands))]!;
      if (bounds.length === 0 || bound > bounds[bounds.length - 1]!) bounds.push(bound);
    }
    return { dims, seed, items: n, idf: entries, unseenIdf: round(idf(0)), priceBounds: bounds, weights: { ...weights } };
  }
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** FNV-1a over UTF-16 code units: a token's projection seed (lone surrogates hash like any code unit). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Projection rows kept in memory; beyond this the cache starts again (rows are cheap to draw). */
const CACHED_ROWS = 20_000;

/** Turns items into unit content vectors with a fitted state. */
export class ContentVectorizer {
  readonly dims: number;
  private readonly idf: Map<string, number>;
  private readonly rows = new Map<string, Float32Array>();

  constructor(private readonly state: ContentState) {
    this.dims = state.dims;
    this.idf = new Map(state.idf);
  }

  /** The item's weighted TF-IDF tokens: `(1 + ln tf) * field weight * idf`. */
  tokens(item: ContentItem): Map<string, number> {
    const { weights } = this.state;
    const out = new Map<string, number>();
    const counts = new Map<string, { tf: number; weight: number }>();
    const addWords = (text: string | undefined, fieldWeight: number) => {
      for (const w of words(text)) {
        const token = `w:${w}`;
        if (!this.idf.has(token)) continue;
        const entry = counts.get(token) ?? { tf: 0, weight: 0 };
        entry.tf++;
        entry.weight = Math.max(entry.weight, fieldWeight);
        counts.set(token, entry);
      }
    };
    addWords(item.title, weights.title);
    addWords(item.description, weights.description);
    for (const [token, { tf, weight }] of counts) out.set(token, (1 + Math.log(tf)) * weight * this.idf.get(token)!);
    for (const { token, field, depth } of structuralTokens(item, this.state.priceBounds)) {
      // Deeper category prefixes say more: `Food > Dairy > Milk` is closer to milk than to all food.
      const boost = depth === undefined ? 1 : 1 + depth * 0.5;
      const idf = token.startsWith('p:') ? 1 : (this.idf.get(token) ?? this.state.unseenIdf);
      out.set(token, (out.get(token) ?? 0) + weights[field] * boost * idf);
    }
    return out;
  }

  /** The item's content vector: `dims` finite numbers of unit length. */
  vector(item: ContentItem): number[] {
    const v = new Float64Array(this.dims);
    for (const [token, w] of this.tokens(item)) {
      if (!(w > 0)) continue;
      const row = this.row(token);
      for (let d = 0; d < this.dims; d++) v[d]! += w * row[d]!;
    }
    let norm = 0;
    for (let d = 0; d < this.dims; d++) norm += v[d]! * v[d]!;
    // Every item has a price band token, so this is only reached with all field weights at 0; Elasticsearch's cosine
    // refuses a zero vector, so such an item gets the fixed first axis.
    if (!(norm > 0)) return Array.from({ length: this.dims }, (_, d) => (d === 0 ? 1 : 0));
    const scale = 1 / Math.sqrt(norm);
    return Array.from(v, (x) => Math.round(x * scale * 1e7) / 1e7);
  }

  /** A token's ±1/√dims projection row, drawn from a generator seeded by the state's seed and the token. */
  private row(token: string): Float32Array {
    let row = this.rows.get(token);
    if (row !== undefined) return row;
    if (this.rows.size >= CACHED_ROWS) this.rows.clear();
    const rng = mulberry32(hashSeed(this.state.seed, fnv1a(token), token.length));
    const value = 1 / Math.sqrt(this.dims);
    row = new Float32Array(this.dims);
    for (let d = 0; d < this.dims; d++) row[d] = rng() < 0.5 ? -value : value;
    this.rows.set(token, row);
    return row;
  }
}

/** Cosine similarity of two vectors of the same length (0 when either is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  // sqrt of each: the product of two tiny norms would underflow to 0.
  const denominator = Math.sqrt(na) * Math.sqrt(nb);
  if (!(denominator > 0) || !Number.isFinite(denominator)) return 0;
  return Math.max(-1, Math.min(1, dot / denominator));
}
