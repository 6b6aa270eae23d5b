import fc from 'fast-check';
import { checkEvent, checkItem } from '@portrait/shared';
import { catalogueItem, interactionEvent, parseTime, readCsv } from '../../scripts/interactions';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const BOUNDS = { maxFutureSkewMs: 300_000, maxAgeMs: 100 * 365 * 86_400_000 };

describe('importing interactions from CSV', () => {
  it('reads headers case- and separator-insensitively and maps every documented type to an ingest event', () => {
    const rows = readCsv(
      [
        'User_ID,Item-Id,Timestamp,Event Type,Rating,Quantity,Price',
        'u1,i1,2001-02-03T04:05:06Z,view,,,',
        'u1,i2,981173106,cart,,2,',
        'u1,i3,981173106000,purchase,,3,9.5',
        'u1,i4,2001-02-03,review,4,,',
        'u2,i1,2001-02-03T04:05:06Z,,5,,',
        'u2,i5,2001-02-03T04:05:06Z,,,,',
      ].join('\n'),
    );
    const events = rows.map((row, i) => interactionEvent(row, i + 2, new Map([['i5', 7]])).value!);
    expect(events.map((e) => e.type)).toEqual(['page_view', 'add_to_cart', 'purchase', 'review', 'review', 'purchase']);
    expect(events[1]).toMatchObject({ itemId: 'i2', quantity: 2, timestamp: '2001-02-03T04:05:06.000Z' });
    expect(events[2]).toMatchObject({ order: { amount: 28.5, lines: [{ itemId: 'i3', quantity: 3, unitPrice: 9.5 }] } });
    expect(events[3]).toMatchObject({ rating: 4, timestamp: '2001-02-03T00:00:00.000Z' });
    expect(events[5]).toMatchObject({ order: { amount: 7, lines: [{ unitPrice: 7 }] } });
    for (const event of events) expect(checkEvent(event, NOW, BOUNDS)).toMatchObject({ ok: true });
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
  });

  it('gives the same event id to the same row, so a second import adds nothing', () => {
    const [row] = readCsv('user,item,timestamp\nu1,i1,2001-02-03T04:05:06Z');
    expect(interactionEvent(row!, 2).value!.eventId).toBe(interactionEvent({ ...row! }, 2).value!.eventId);
  });

  it('says which row is wrong and why', () => {
    const rows = readCsv(
      'user,item,timestamp,type,rating\n,i1,2001-01-01,view,\nu1,,2001-01-01,view,\nu1,i1,yesterday,view,\nu1,i1,2001-01-01,wishlist,\nu1,i1,2001-01-01,review,9',
    );
    expect(rows.map((row, i) => interactionEvent(row, i + 2).error)).toEqual([
      'no user (column user, user_id or customer)',
      'no item (column item, item_id or product)',
      'timestamp "yesterday" is neither ISO 8601 nor epoch seconds or milliseconds',
      expect.stringContaining('type "wishlist" is not one of view'),
      'rating "9" must be a whole number from 1 to 5',
    ]);
  });

  it('reads epoch seconds, epoch milliseconds and ISO date-times', () => {
    expect(parseTime('981173106')).toBe(981_173_106_000);
    expect(parseTime('981173106.5')).toBe(981_173_106_500);
    expect(parseTime('981173106000')).toBe(981_173_106_000);
    expect(parseTime('2001-02-03T04:05:06+01:00')).toBe(Date.parse('2001-02-03T03:05:06Z'));
    expect(parseTime('soon')).toBeUndefined();
  });

  it('maps catalogue rows: category paths, tags, stock and price', () => {
    const rows = readCsv(
      'id,title,categories,brand,price,tags,in_stock\ni1,Tent,Outdoor > Tents,Northwind,99.5,camping|green,false\ni2,,Books/Novels,,,,',
    );
    const [tent, book] = rows.map((row, i) => catalogueItem(row, i + 2).value!);
    expect(tent).toEqual({
      itemId: 'i1',
      title: 'Tent',
      category: ['Outdoor', 'Tents'],
      brand: 'Northwind',
      price: 99.5,
      tags: ['camping', 'green'],
      inStock: false,
    });
    expect(book).toEqual({ itemId: 'i2', title: 'i2', category: ['Books', 'Novels'], price: 0, inStock: true });
    for (const item of [tent, book]) expect(checkItem(item, undefined, NOW, BOUNDS)).toMatchObject({ ok: true });
    expect(catalogueItem({ id: 'x', price: '-1' }, 5).error).toBe('price "-1" is not a non-negative number');
  });

  it('maps any row, hostile values and all, to an event or a reason, never throwing', () => {
    const hostile = fc.constantFrom('__proto__', 'constructor', 'toString', '\uD800', 'a'.repeat(5000), '', ' ');
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('user', 'item', 'timestamp', 'type', 'rating', 'price', '__proto__'), fc.oneof(hostile, fc.string())),
        (row) => {
          const mapped = interactionEvent(row, 2);
          expect(mapped.value === undefined).toBe(mapped.error !== undefined);
        },
      ),
    );
  });
});
