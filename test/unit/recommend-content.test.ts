import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import {
  checkContentState,
  CONTENT_VECTOR_DIMS,
  ContentFitter,
  ContentStateSchema,
  ContentVectorizer,
  cosine,
  mulberry32,
  ValidationError,
  words,
  type ContentItem,
} from '@portrait/shared';

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/** Five departments of 40 items: their own words, brands and price ranges, with some words shared across all. */
function plantedCatalogue(): { item: ContentItem; department: number }[] {
  const rng = mulberry32(7);
  const DEPARTMENTS = [
    { root: 'Outdoor', words: ['tent', 'camping', 'trail', 'hiking', 'waterproof', 'backpack'], brands: ['Northwind', 'Peak'], price: 150 },
    { root: 'Kitchen', words: ['pan', 'skillet', 'frying', 'knife', 'cooking', 'iron'], brands: ['Ferro', 'Chef'], price: 40 },
    { root: 'Books', words: ['novel', 'paperback', 'story', 'author', 'chapter', 'mystery'], brands: ['Quill', 'Page'], price: 12 },
    { root: 'Garden', words: ['spade', 'seeds', 'soil', 'hose', 'planter', 'compost'], brands: ['Green', 'Root'], price: 25 },
    { root: 'Audio', words: ['headphones', 'speaker', 'bass', 'wireless', 'stereo', 'noise'], brands: ['Sonic', 'Wave'], price: 90 },
  ];
  const SHARED = ['premium', 'classic', 'new', 'quality', 'great', 'gift'];
  const pick = <T>(list: readonly T[]) => list[Math.floor(rng() * list.length)]!;
  return DEPARTMENTS.flatMap((d, department) =>
    Array.from({ length: 40 }, () => ({
      department,
      item: {
        title: `${pick(SHARED)} ${pick(d.words)} ${pick(d.words)}`,
        description: `${pick(SHARED)} ${pick(SHARED)} ${pick(d.words)} for everyone, ${pick(SHARED)}.`,
        category: [d.root, `${d.root} ${Math.floor(rng() * 3)}`],
        brand: pick(d.brands),
        tags: [pick(d.words)],
        price: d.price * (0.5 + rng()),
      },
    })),
  );
}

function fitted(items: readonly ContentItem[], options = {}) {
  const fitter = new ContentFitter(options);
  for (const item of items) fitter.add(item);
  return fitter.finish();
}

/** Share of items whose nearest other item (by cosine) has the same label. */
function neighbourAgreement(vectors: number[][], labels: readonly number[]): number {
  let agree = 0;
  vectors.forEach((v, i) => {
    let best = -1;
    let bestScore = -Infinity;
    vectors.forEach((w, j) => {
      if (j === i) return;
      const s = cosine(v, w);
      if (s > bestScore) [best, bestScore] = [j, s];
    });
    if (labels[best] === labels[i]) agree++;
  });
  return agree / vectors.length;
}

describe('the content vector and the items mapping', () => {
  it('agree on the dimension, and a model of another dimension is refused', () => {
    const items = JSON.parse(readFileSync(path.resolve(__dirname, '../../infra/elasticsearch/indices/items.json'), 'utf8'));
    expect(items.mappings.properties.content).toMatchObject({ type: 'dense_vector', dims: CONTENT_VECTOR_DIMS, similarity: 'cosine' });
    expect(() => checkContentState({ dims: CONTENT_VECTOR_DIMS })).not.toThrow();
    expect(() => checkContentState({ dims: 128 })).toThrow(ValidationError);
  });
});

describe('the content model', () => {
  const catalogue = plantedCatalogue();
  const state = fitted(catalogue.map((c) => c.item));
  const vectorizer = new ContentVectorizer(state);

  it('tokenizes words as NFKC lower case runs of letters, digits and combining marks, without stop words or single characters', () => {
    expect(words('The ＴＥＮＴ, for 2 people—waterproof!')).toEqual(['tent', 'people', 'waterproof']);
    expect(words(undefined)).toEqual([]);
    expect(words('नमस्ते दुनिया')).toEqual(['नमस्ते', 'दुनिया']);
  });

  it('keeps words within the document-frequency bounds and every structural token', () => {
    const tokens = new Map(state.idf);
    expect(tokens.has('w:tent')).toBe(true);
    // "for" is a stop word; "everyone" is in every description, beyond maxDocFreqShare.
    expect(tokens.has('w:for')).toBe(false);
    expect(tokens.has('w:everyone')).toBe(false);
    expect(tokens.has('c:outdoor')).toBe(true);
    expect(tokens.has('c:outdoor>outdoor 1')).toBe(true);
    expect(tokens.has('b:northwind')).toBe(true);
    expect(state.priceBounds).toHaveLength(4);
    expect(state.idf.map(([t]) => t)).toEqual([...state.idf.map(([t]) => t)].sort());
  });

  it('gives unit vectors of the state’s dimension, the same in any process from the stored state', () => {
    const again = new ContentVectorizer(ContentStateSchema.parse(JSON.parse(JSON.stringify(state))));
    for (const { item } of catalogue.slice(0, 20)) {
      const v = vectorizer.vector(item);
      expect(v).toHaveLength(256);
      expect(norm(v)).toBeCloseTo(1, 6);
      expect(again.vector(item)).toEqual(v);
    }
    expect(JSON.stringify(fitted(catalogue.map((c) => c.item)))).toBe(JSON.stringify(state));
  });

  it('puts an item nearest to items of its own department, far above a shuffled baseline', () => {
    const vectors = catalogue.map((c) => vectorizer.vector(c.item));
    const labels = catalogue.map((c) => c.department);
    const agreement = neighbourAgreement(vectors, labels);
    const rng = mulberry32(3);
    const shuffled = [...labels].sort(() => rng() - 0.5);
    expect(agreement).toBeGreaterThan(0.95);
    expect(agreement).toBeGreaterThan(3 * neighbourAgreement(vectors, shuffled));
  });

  it('on real review texts, a product’s best match shares far more than a random pair does', () => {
    const rows = parse(readFileSync(path.resolve(__dirname, '../../infra/data/fine_food_reviews_train.csv')), { columns: true }) as {
      product: string;
      review: string;
    }[];
    const items: ContentItem[] = rows.slice(0, 600).map((r) => ({ title: r.product, description: r.review, category: ['Food'], price: 1 }));
    const v = new ContentVectorizer(fitted(items));
    const vectors = items.map((i) => v.vector(i));
    let best = 0;
    let random = 0;
    const rng = mulberry32(11);
    for (let i = 0; i < 150; i++) {
      let top = -Infinity;
      for (let j = 0; j < vectors.length; j++) if (j !== i) top = Math.max(top, cosine(vectors[i]!, vectors[j]!));
      best += top;
      random += cosine(vectors[i]!, vectors[Math.floor(rng() * vectors.length)]!);
    }
    // One review per product: neighbours share words, not products, so the margin is a ratio.
    expect(best / 150).toBeGreaterThan(2.5 * (random / 150));
    expect(best / 150).toBeGreaterThan(0.2);
  });

  it('vectorizes any item, hostile strings and all, to a finite unit vector', () => {
    const hostile = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'toString', '\uD800', 'a\uDFFFb', '', ' ', 'x'.repeat(30_000)),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    fc.assert(
      fc.property(
        fc.record({
          title: hostile,
          description: fc.option(hostile, { nil: undefined }),
          category: fc.array(hostile, { minLength: 1, maxLength: 4 }),
          brand: fc.option(hostile, { nil: undefined }),
          tags: fc.option(fc.array(hostile, { maxLength: 4 }), { nil: undefined }),
          price: fc.double({ min: 0, max: 1e9, noNaN: true }),
        }),
        (item) => {
          const v = vectorizer.vector(item);
          expect(v).toHaveLength(256);
          expect(v.every(Number.isFinite)).toBe(true);
          expect(norm(v)).toBeCloseTo(1, 5);
        },
      ),
    );
  });

  it('fits hostile catalogues without touching prototypes', () => {
    const s = fitted(
      [
        { title: '__proto__ constructor', category: ['__proto__'], brand: 'constructor', price: 1 },
        { title: '__proto__ hasOwnProperty', category: ['__proto__'], brand: 'constructor', price: 2 },
      ],
      { minDocFreq: 1, maxDocFreqShare: 1 },
    );
    const idf = new Map(s.idf);
    expect(idf.has('w:constructor')).toBe(true);
    expect(idf.has('c:__proto__')).toBe(true);
    expect(idf.has('b:constructor')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('has a symmetric cosine within [-1, 1]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (a, b) => {
          const ab = cosine(a, b);
          expect(ab).toBeCloseTo(cosine(b, a), 12);
          expect(Math.abs(ab)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});
