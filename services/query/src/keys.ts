import { Router, type Request, type Response } from 'express';
import { ACTOR_HEADER, ApiKeyParams, CreateApiKeySchema, parseOrThrow } from '@portrait/shared';
import { jsonBody, type ApiKeyStore, type Caller } from '@portrait/runtime';

/** Who is acting: the key's name when the request carried one, else the actor header, else `anonymous`. */
function actorOf(req: Request, res: Response): string {
  const caller = res.locals.caller as Caller | undefined;
  const header = req.headers[ACTOR_HEADER];
  return caller?.name ?? (typeof header === 'string' && header.trim() !== '' ? header.trim().slice(0, 200) : 'anonymous');
}

export function keyRoutes(store: ApiKeyStore, now: () => number): Router {
  const router = Router();

  router.post('/v1/keys', ...jsonBody('16kb'), async (req, res) => {
    const request = parseOrThrow(CreateApiKeySchema, req.body, 'API key', ['body']);
    res.status(201).json(await store.create(request, actorOf(req, res), now()));
  });

  router.get('/v1/keys', async (_req, res) => {
    res.json({ keys: await store.list() });
  });

  router.delete('/v1/keys/:keyId', async (req, res) => {
    const { keyId } = parseOrThrow(ApiKeyParams, req.params, 'API key id', ['params']);
    res.json(await store.revoke(keyId, actorOf(req, res), now()));
  });

  return router;
}
