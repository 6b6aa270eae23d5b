/**
 * API keys, for operators with access to the Redis the services use (the first admin key cannot come from the
 * API that asks for one).
 *
 *   npm run keys -- create --name <name> --scopes <scope,...> [--expires-days <n>] [--rate-limit <requests>/<seconds>]
 *   npm run keys -- list
 *   npm run keys -- revoke <keyId>
 *
 * `create` prints the key once, on stdout alone (the rest goes to stderr), so `KEY=$(npm run -s keys -- create ...)`
 * captures it. Environment: REDIS_URL (default redis://127.0.0.1:6379), PORTRAIT_PREFIX (default portrait).
 */
import { CliError, CommonEnv, CreateApiKeySchema, parseEnv, SCOPE_DESCRIPTIONS, SCOPES, toIssues } from '@portrait/shared';
import { ApiKeyStore, type Redis } from '@portrait/runtime';
import { connectDataSet, parseCliArgs, runCli } from './cli';

const USAGE = `Usage: npm run keys -- <command>

Commands:
  create --name <name> --scopes <scope,...> [--expires-days <n>] [--rate-limit <requests>/<seconds>]
                                                                   make a key; it is printed once, on stdout
  list                                                             every key (without secrets), oldest first
  revoke <keyId>                                                   refuse the key from now on, in every process

Scopes: ${SCOPES.map((s) => `${s} (${SCOPE_DESCRIPTIONS[s]})`).join('; ')}.

Environment: REDIS_URL (default redis://127.0.0.1:6379), PORTRAIT_PREFIX (default portrait).`;

const KeysEnv = CommonEnv.pick({ REDIS_URL: true, PORTRAIT_PREFIX: true });

async function main(argv: string[]): Promise<number> {
  const parsed = parseCliArgs(
    argv,
    {
      name: { type: 'string' },
      scopes: { type: 'string' },
      'expires-days': { type: 'string' },
      'rate-limit': { type: 'string' },
      help: { type: 'boolean' },
    },
    USAGE,
  );
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  const config = parseEnv(KeysEnv, process.env);
  const { redis, store } = await connect(config.REDIS_URL, config.PORTRAIT_PREFIX);
  try {
    switch (command) {
      case 'create': {
        const request = CreateApiKeySchema.safeParse({
          name: values.name,
          scopes: (values.scopes ?? '')
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
          ...(values['expires-days'] === undefined ? {} : { expiresInDays: Number(values['expires-days']) }),
          ...(values['rate-limit'] === undefined ? {} : { rateLimit: rateLimitOf(values['rate-limit']) }),
        });
        if (!request.success) {
          const issues = toIssues(request.error, []).map((i) => `  --${FLAGS[i.path.split('.')[0]!] ?? i.path.split('.')[0]}: ${i.reason}`);
          throw new CliError(`cannot create the key:\n${issues.join('\n')}\n\n${USAGE}`, 2);
        }
        const created = await store.create(request.data, `cli:${process.env.USER ?? 'unknown'}`, Date.now());
        process.stderr.write(
          `created key ${created.keyId} '${created.name}' with scopes ${created.scopes.join(', ')}` +
            `${created.expiresAt ? `, expiring ${created.expiresAt}` : ''}. The key is shown this once:\n`,
        );
        process.stdout.write(`${created.key}\n`);
        return 0;
      }
      case 'list': {
        const keys = await store.list();
        if (keys.length === 0) process.stderr.write('no API keys yet: npm run keys -- create --name <name> --scopes admin\n');
        for (const key of keys) {
          const state = key.revokedAt
            ? `revoked ${key.revokedAt}`
            : key.expiresAt && Date.parse(key.expiresAt) <= Date.now()
              ? `expired ${key.expiresAt}`
              : 'active';
          process.stdout.write(
            `${key.keyId}  ${key.name.padEnd(24)}  ${key.scopes.join(',').padEnd(20)}  ${state}  created ${key.createdAt} by ${key.createdBy}\n`,
          );
        }
        return 0;
      }
      case 'revoke': {
        if (rest.length !== 1) throw new CliError(`revoke takes one key id\n\n${USAGE}`, 2);
        const revoked = await store.revoke(rest[0]!, `cli:${process.env.USER ?? 'unknown'}`, Date.now()).catch((error: Error) => {
          throw new CliError(error.message, 1);
        });
        process.stderr.write(`key ${revoked.keyId} '${revoked.name}' revoked at ${revoked.revokedAt}\n`);
        return 0;
      }
      default:
        throw new CliError(`unknown command '${command}'\n\n${USAGE}`, 2);
    }
  } finally {
    redis.disconnect();
  }
}

/** The command-line flag of each field of a key request, for error messages. */
const FLAGS: Record<string, string> = { name: 'name', scopes: 'scopes', expiresInDays: 'expires-days', rateLimit: 'rate-limit' };

/** `100/60` → 100 requests per 60 seconds; anything else is handed on as it is, for the schema to refuse. */
function rateLimitOf(text: string): unknown {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  return match ? { requests: Number(match[1]), perSeconds: Number(match[2]) } : text;
}

async function connect(url: string, prefix: string): Promise<{ redis: Redis; store: ApiKeyStore }> {
  const { redis, namespace } = await connectDataSet(url, prefix, 'keys would belong to nothing');
  return { redis, store: new ApiKeyStore(redis, namespace) };
}

runCli('keys', main);
