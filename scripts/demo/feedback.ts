/**
 * Recommendation feedback for the demo: asks the recommendation API for shoppers' lists, strategy by strategy,
 * and reports what a shop would: an impression for every item shown and a click where the shopper would plausibly
 * open it. A shopper opens an item of one of their top two categories, more likely near the top of the list
 * (chance 0.5 / (1 + (position - 1) / 3), drawn from a hash of shopper and item, so a run is repeatable). So each
 * strategy's click-through reflects how often it proposes what the shopper is into. Event ids are fixed per
 * shopper, strategy and position: sending it twice adds nothing.
 */
import { createHash } from 'node:crypto';

export interface FeedbackOptions {
  ingestUrl: string;
  queryUrl: string;
  headers: Record<string, string>;
  userIds: readonly string[];
  strategies: readonly string[];
  /** Items per list. */
  k?: number;
  nowMs: number;
}

export interface FeedbackReport {
  lists: number;
  impressions: number;
  clicks: number;
  /** Strategies that answered 409 (their model is not active): no feedback for them. */
  skipped: string[];
}

interface RecommendationAnswer {
  requestId: string;
  strategy: string;
  items: { itemId: string; category: string[] }[];
}

/** A number in [0, 1) from a shopper and an item: the same pair draws the same number. */
function draw(userId: string, itemId: string): number {
  return createHash('sha256').update(`${userId}\u0000${itemId}`).digest().readUInt32BE(0) / 2 ** 32;
}

async function getJson(url: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

export async function sendRecommendationFeedback(options: FeedbackOptions): Promise<FeedbackReport> {
  const { queryUrl, headers, strategies } = options;
  const k = options.k ?? 8;
  const skipped = new Set<string>();
  const events: Record<string, unknown>[] = [];
  let lists = 0;
  let clicks = 0;
  const timestamp = new Date(options.nowMs).toISOString();
  for (const [i, userId] of options.userIds.entries()) {
    const live = strategies.filter((s) => !skipped.has(s));
    if (live.length === 0) break;
    const strategy = live[i % live.length]!;
    const user = encodeURIComponent(userId);
    const rec = await getJson(`${queryUrl}/v1/users/${user}/recommendations?k=${k}&strategy=${strategy}`, headers);
    if (rec.status === 409) {
      skipped.add(strategy);
      continue;
    }
    if (rec.status !== 200)
      throw new Error(`recommendations for ${userId} (${strategy}): ${rec.status} ${JSON.stringify(rec.body).slice(0, 300)}`);
    const answer = rec.body as RecommendationAnswer;
    if (answer.items.length === 0) continue;
    lists++;
    const profile = await getJson(`${queryUrl}/v1/users/${user}/profile`, headers);
    const top = new Set<string>(((profile.body?.interests?.topCategories as string[] | undefined) ?? []).slice(0, 2));
    answer.items.forEach((item, index) => {
      const position = index + 1;
      const common = { userId, itemId: item.itemId, requestId: answer.requestId, strategy: answer.strategy, position, timestamp };
      const id = `demo-feedback-${userId}-${answer.strategy}-${position}`;
      events.push({ ...common, type: 'recommendation_impression', eventId: `${id}-impression` });
      // Profile interests are root categories; an item's category is its path.
      const interested = item.category[0] !== undefined && top.has(item.category[0]);
      if (interested && draw(userId, item.itemId) < 0.5 / (1 + (position - 1) / 3)) {
        events.push({ ...common, type: 'recommendation_click', eventId: `${id}-click` });
        clicks++;
      }
    });
  }
  for (let i = 0; i < events.length; i += 200) {
    const res = await fetch(`${options.ingestUrl}/v1/events/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ events: events.slice(i, i + 200) }),
    });
    const body = (await res.json().catch(() => ({}))) as { rejected?: number };
    if (res.status >= 300 || (body.rejected ?? 0) > 0)
      throw new Error(`feedback events: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
  return { lists, impressions: events.length - clicks, clicks, skipped: [...skipped] };
}
