import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { CommonEnv } from '@portrait/shared';
import { IngestEnv } from '@portrait/ingest';
import { IndexerEnv } from '@portrait/indexer';
import { QueryEnv } from '@portrait/query';
import { JobsEnv } from '@portrait/jobs';
import { KibanaImportEnv } from '../../scripts/kibana-import';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

/** The environment schema of every entry point a compose service may run, by the file it runs. */
const SCHEMAS: Record<string, z.ZodObject> = {
  'services/ingest/src/main.ts': IngestEnv,
  'services/indexer/src/main.ts': IndexerEnv,
  'services/query/src/main.ts': QueryEnv,
  'services/jobs/src/main.ts': JobsEnv,
  'scripts/bootstrap.ts': CommonEnv,
  'scripts/migrate.ts': CommonEnv,
  'scripts/kibana-import.ts': KibanaImportEnv,
};
/** Read by Node itself, not by a schema. */
const RUNTIME_VARIABLES = new Set(['NODE_OPTIONS']);
/** Services that may run as several replicas (`--scale`): no host port, no container name. */
const SCALABLE = ['indexer', 'jobs'];
const SECRET_KEY = /PASSWORD|SECRET|TOKEN|ENCRYPTIONKEY/;

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  ports?: (string | { published?: string | number; host_ip?: string })[];
  expose?: (string | number)[];
  volumes?: (string | { type?: string; source?: string })[];
  restart?: string;
  container_name?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

interface Reference {
  name: string;
  /** `:?`, `?`, `:-`, `-`, `:+`, `+`, or '' for a bare reference. */
  operator: string;
}

/** Compose's interpolation: `$$` is a literal `$`; `${VAR}`, `${VAR:?message}`, `${VAR:-default}`, `$VAR`. */
function interpolate(value: string, env: Record<string, string>, references: Reference[]): string {
  return value.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      _match,
      dollar: string | undefined,
      braced: string | undefined,
      operator: string | undefined,
      word: string | undefined,
      bare: string | undefined,
    ) => {
      if (dollar) return '$';
      const name = (braced ?? bare)!;
      references.push({ name, operator: operator ?? '' });
      const set = env[name];
      // With a colon, an empty value counts as unset.
      const unset = set === undefined || (operator?.startsWith(':') === true && set === '');
      if (operator?.endsWith('-')) return unset ? (word ?? '') : set;
      if (operator?.endsWith('+')) return unset ? '' : (word ?? '');
      if (operator?.endsWith('?') && unset) throw new Error(`compose would stop here: ${word}`);
      return set ?? '';
    },
  );
}

function interpolateTree<T>(node: T, env: Record<string, string>, references: Reference[]): T {
  if (typeof node === 'string') return interpolate(node, env, references) as T;
  if (Array.isArray(node)) return node.map((n: unknown) => interpolateTree(n, env, references)) as T;
  if (node && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env, references)])) as T;
  return node;
}

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

const commandOf = (service: Service): string =>
  [service.entrypoint ?? [], service.command ?? []].flatMap((part) => (typeof part === 'string' ? [part] : part)).join(' ');

/** Repository files a command names (`services/...`, `scripts/...`, `infra/...`). */
const filesOf = (command: string): string[] =>
  [...command.matchAll(/\b(?:services|scripts|infra|shared)\/[\w./-]*\w\.\w+/g)].map((m) => m[0]);

const environmentOf = (service: Service): Record<string, string> =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));

const healthcheckText = (service: Service): string => [service.healthcheck?.test ?? []].flat().join(' ');

/** A key is required when the schema refuses it absent (no default, not optional). */
function requiredKeys(schema: z.ZodObject): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([key]) => key);
}

const rawText = read('docker-compose.yml');
const raw = parse(rawText, { merge: true }) as Compose;
const envExample = parseEnvFile(read('.env.example'));
const references: Reference[] = [];
const compose = interpolateTree(raw, envExample, references);
const services = compose.services;
const ES_VERSION = /^ES_VERSION=(.+)$/m.exec(read('infra/elasticsearch/version.env'))![1]!.trim();

/** The services built from this repository's image, and the entry points they run. */
const portraitServices = Object.entries(services)
  .filter(([, s]) => s.build !== undefined)
  .map(([name, s]) => ({ name, service: s, runs: filesOf(commandOf(s)).filter((f) => f.endsWith('.ts')) }));

describe('docker-compose.yml', () => {
  it('gives every service of this image a schema to check, and every variable its schema requires', () => {
    expect(portraitServices.map((p) => p.name).sort()).toEqual(
      expect.arrayContaining(['bootstrap', 'indexer', 'ingest', 'jobs', 'kibana-import', 'query']),
    );
    for (const { name, service, runs } of portraitServices) {
      expect({ name, runs: runs.length > 0 }).toEqual({ name, runs: true });
      const env = environmentOf(service);
      for (const file of runs) {
        const schema = SCHEMAS[file];
        expect({ name, file, schema: schema !== undefined }).toEqual({ name, file, schema: true });
        expect({ name, file, missing: requiredKeys(schema!).filter((k) => env[k] === undefined) }).toEqual({ name, file, missing: [] });
        // The values compose passes (with .env.example's placeholders) are ones the service accepts.
        const parsed = schema!.safeParse(env);
        expect({ name, file, issues: parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }).toEqual({
          name,
          file,
          issues: [],
        });
      }
      // A misspelt variable would be silently ignored: every one is a key of a schema the service runs.
      const known = new Set([...RUNTIME_VARIABLES, ...runs.flatMap((f) => Object.keys(SCHEMAS[f]?.shape ?? {}))]);
      expect({ name, unknown: Object.keys(env).filter((k) => !known.has(k)) }).toEqual({ name, unknown: [] });
    }
  });

  it('connects every Portrait process to Elasticsearch as the portrait user, and to the services by their compose names', () => {
    for (const { name, service, runs } of portraitServices) {
      const env = environmentOf(service);
      if (runs.some((f) => SCHEMAS[f] !== KibanaImportEnv)) {
        expect({ name, user: env.ES_USERNAME, password: Boolean(env.ES_PASSWORD) }).toEqual({ name, user: 'portrait', password: true });
        expect(services[new URL(env.ES_URL!).hostname]).toBeDefined();
        expect(services[new URL(env.REDIS_URL!).hostname]).toBeDefined();
        expect(env.PORTRAIT_PREFIX).toBe('portrait');
      }
      if (env.KIBANA_URL) expect(services[new URL(env.KIBANA_URL).hostname]).toBeDefined();
    }
    // es-setup grants the role on the prefix the services use.
    expect(commandOf(services['es-setup']!)).toContain('"names":["portrait-*"]');
    expect(environmentOf(services.kibana!)).toMatchObject({
      ELASTICSEARCH_USERNAME: 'kibana_system',
      ELASTICSEARCH_HOSTS: 'http://elasticsearch:9200',
    });
  });

  it('listens on every interface inside the container, on the port its healthcheck and expose or ports name', () => {
    for (const { name, service, runs } of portraitServices) {
      const main = runs.find((f) => f.startsWith('services/'));
      if (main === undefined) continue;
      const env = environmentOf(service);
      const keys = Object.keys(SCHEMAS[main]!.shape);
      const hostKey = keys.find((k) => /^[A-Z]+_HOST$/.test(k))!;
      const portKey = keys.find((k) => /^[A-Z]+_PORT$/.test(k))!;
      // The default, 127.0.0.1, would answer the healthcheck but nothing from outside the container.
      expect({ name, [hostKey]: env[hostKey] }).toEqual({ name, [hostKey]: '0.0.0.0' });
      const port = env[portKey] ?? String(SCHEMAS[main]!.shape[portKey]!.parse(undefined));
      expect(healthcheckText(service)).toContain(`http://127.0.0.1:${port}/readyz`);
      const containerPorts = [...(service.expose ?? []).map(String), ...(service.ports ?? []).map((p) => String(p).split(':').pop())];
      expect({ name, containerPorts }).toEqual({ name, containerPorts: expect.arrayContaining([port]) });
    }
  });

  it('pins every image to a version, Elasticsearch and Kibana to infra/elasticsearch/version.env', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) continue;
      const image = service.image ?? '';
      const tag = /:([^/:@]+)(?:@sha256:[0-9a-f]+)?$/.exec(image)?.[1];
      expect({ name, image, pinned: tag !== undefined && tag !== 'latest' && /\d+\.\d+/.test(tag) }).toEqual({ name, image, pinned: true });
      if (image.startsWith('docker.elastic.co/')) expect({ name, tag }).toEqual({ name, tag: ES_VERSION });
    }
    expect(services.elasticsearch!.image).toBe(`docker.elastic.co/elasticsearch/elasticsearch:${ES_VERSION}`);
    expect(services.kibana!.image).toBe(`docker.elastic.co/kibana/kibana:${ES_VERSION}`);
  });

  it('starts in order: every dependency exists, is healthy when that is asked, and one-shots run to completion', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        const dependency = services[target];
        expect({ name, target, exists: dependency !== undefined }).toEqual({ name, target, exists: true });
        if (condition === 'service_healthy')
          expect({ name, target, healthcheck: Boolean(dependency!.healthcheck?.test && !dependency!.healthcheck.disable) }).toEqual({
            name,
            target,
            healthcheck: true,
          });
        // A one-shot that restarted itself would never complete.
        if (condition === 'service_completed_successfully')
          expect({ name, target, restart: dependency!.restart ?? 'no' }).toEqual({ name, target, restart: 'no' });
      }
      // Long-running services say when they are ready.
      if (service.restart === 'unless-stopped' || service.restart === 'always')
        expect({ name, healthcheck: Boolean(service.healthcheck?.test) }).toEqual({ name, healthcheck: true });
    }
    for (const { name, runs } of portraitServices.filter((p) => p.runs.some((f) => f.startsWith('services/'))))
      expect({ name, runs, bootstrap: services[name]!.depends_on?.bootstrap?.condition }).toEqual({
        name,
        runs,
        bootstrap: 'service_completed_successfully',
      });
    expect(services.kibana!.depends_on?.['es-setup']?.condition).toBe('service_completed_successfully');
    expect(services['kibana-import']!.depends_on?.kibana?.condition).toBe('service_healthy');
    expect(services.bootstrap!.depends_on?.['es-setup']?.condition).toBe('service_completed_successfully');
  });

  it('names only files the repository has, in commands and bind mounts', () => {
    const named = Object.values(services).flatMap((s) => filesOf(commandOf(s)));
    expect(named).toEqual(expect.arrayContaining(['scripts/bootstrap.ts', 'scripts/kibana-import.ts', 'infra/kibana/portrait.ndjson']));
    expect(named.filter((file) => !existsSync(path.join(ROOT, file)))).toEqual([]);
    const binds = Object.values(services)
      .flatMap((s) => s.volumes ?? [])
      .map((v) => (typeof v === 'string' ? v.split(':')[0]! : (v.source ?? '')))
      .filter((source) => source.startsWith('.') || source.startsWith('/'));
    expect(binds.filter((source) => !existsSync(path.resolve(ROOT, source)))).toEqual([]);
  });

  it('declares every named volume it mounts, and mounts every one it declares', () => {
    const mounted = new Set(
      Object.values(services)
        .flatMap((s) => s.volumes ?? [])
        .map((v) => (typeof v === 'string' ? v.split(':')[0]! : (v.source ?? '')))
        .filter((source) => source !== '' && !source.startsWith('.') && !source.startsWith('/')),
    );
    expect([...mounted].sort()).toEqual(Object.keys(compose.volumes ?? {}).sort());
    expect(services.elasticsearch!.volumes).toEqual(expect.arrayContaining(['esdata:/usr/share/elasticsearch/data']));
    expect(services.redis!.volumes).toEqual(expect.arrayContaining(['redisdata:/data']));
  });

  it('publishes no host port twice, and none of a service that scales', () => {
    const published = Object.entries(services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => {
        if (typeof p !== 'string') return { name, ip: p.host_ip ?? '0.0.0.0', port: String(p.published) };
        const parts = p.split(':');
        return { name, ip: parts.length === 3 ? parts[0]! : '0.0.0.0', port: parts.length === 1 ? parts[0]! : parts[parts.length - 2]! };
      }),
    );
    const clashes = published.filter((a, i) =>
      published.some((b, j) => j !== i && a.port === b.port && (a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0')),
    );
    expect(clashes).toEqual([]);
    for (const name of SCALABLE) expect({ name, ports: services[name]!.ports ?? [] }).toEqual({ name, ports: [] });
    expect(Object.entries(services).filter(([, s]) => s.container_name !== undefined)).toEqual([]);
    // Elasticsearch, Kibana and Redis are for this machine only.
    for (const name of ['elasticsearch', 'kibana', 'redis'])
      expect({ name, loopback: published.filter((p) => p.name === name).every((p) => p.ip === '127.0.0.1') }).toEqual({
        name,
        loopback: true,
      });
  });

  it('reads every variable from .env, stops with a message when a required one is missing, and .env.example has them all', () => {
    const used = [...new Set(references.map((r) => r.name))].sort();
    expect(used).toEqual(
      expect.arrayContaining(['ELASTIC_PASSWORD', 'KIBANA_ENCRYPTION_KEY', 'KIBANA_SYSTEM_PASSWORD', 'PORTRAIT_ES_PASSWORD']),
    );
    expect(used.filter((name) => envExample[name] === undefined)).toEqual([]);
    expect(Object.keys(envExample).filter((name) => !used.includes(name))).toEqual([]);
    // Without a default, `${VAR:?message}`: compose refuses to start rather than pass an empty secret.
    expect(references.filter((r) => !/^:?[-?]$/.test(r.operator)).map((r) => r.name)).toEqual([]);
    expect(() => interpolateTree(raw, {}, [])).toThrow(/set [A-Z_]+ in \.env/);
  });

  it('holds no secret itself: secret variables come from .env, and no .env.example value appears in it', () => {
    for (const [name, service] of Object.entries(raw.services))
      for (const [key, value] of Object.entries(service.environment ?? {}))
        if (SECRET_KEY.test(key))
          expect({ name, key, value }).toEqual({ name, key, value: expect.stringMatching(/^\$\{[A-Z_]+:\?[^}]*\}$/) });
    for (const value of Object.values(envExample)) expect(rawText).not.toContain(value);
    // Credentials on a command line are variables too (`-u elastic:$${ELASTIC_PASSWORD}`).
    expect(rawText.match(/-u\s+["']?[\w.-]+:(?!\$)/g)).toBeNull();
    expect(healthcheckText(services.elasticsearch!)).toContain('-u elastic:${ELASTIC_PASSWORD}');
    expect(environmentOf(services.kibana!).XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY).toBe(envExample.KIBANA_ENCRYPTION_KEY);
  });
});

describe('.env.example', () => {
  it('holds only placeholders that are plainly not secrets, and Kibana keys long enough for Kibana', () => {
    for (const [key, value] of Object.entries(envExample)) {
      if (SECRET_KEY.test(key) || key.endsWith('_KEY'))
        expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^change-me-/) });
      if (key.endsWith('_KEY')) expect({ key, long: value.length >= 32 }).toEqual({ key, long: true });
    }
  });

  it('stays out of git and out of the image as .env', () => {
    expect(read('.gitignore').split('\n')).toContain('.env');
    expect(read('.dockerignore').split('\n')).toEqual(expect.arrayContaining(['.env', '**/node_modules']));
  });
});

describe('Dockerfile', () => {
  const stages = read('Dockerfile')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .reduce<{ from: string; name?: string; lines: string[] }[]>((acc, line) => {
      const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
      if (from) acc.push({ from: from[1]!, name: from[2], lines: [] });
      else acc.at(-1)?.lines.push(line.trim());
      return acc;
    }, []);
  const runtime = stages.at(-1)!;

  it('builds in stages and runs as a user other than root, with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = runtime.lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user!.slice(5).trim()).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime.lines.some((l) => /npm ci\b.*--omit=dev/.test(l))).toBe(true);
    expect(runtime.lines.some((l) => /--include=dev/.test(l))).toBe(false);
  });

  it('builds the console in an earlier stage with a script package.json defines, and ships only its output', () => {
    const builder = stages.find((s) => s.lines.some((l) => l.includes('npm run console:build')));
    expect(builder?.name).toBeDefined();
    expect(runtime.lines).toContainEqual(
      expect.stringMatching(new RegExp(`^COPY --from=${builder!.name} \\S*console/dist/? console/dist/?$`)),
    );
    expect((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['console:build']).toBeDefined();
  });

  it('copies every file a compose command of this image runs', () => {
    const sources = runtime.lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1))
      .map((s) => s.replace(/^\.\//, ''));
    const needed = [...new Set(portraitServices.flatMap((p) => filesOf(commandOf(p.service))))];
    expect(needed.length).toBeGreaterThan(0);
    expect(needed.filter((file) => !sources.some((s) => file === s || (s.endsWith('/') && file.startsWith(s))))).toEqual([]);
    // tsx resolves the sources with the project's TypeScript settings.
    expect(sources).toEqual(expect.arrayContaining(['tsconfig.json', 'tsconfig.base.json']));
  });
});
