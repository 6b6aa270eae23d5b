# One image for all four services; compose (or `docker run ... <command>`) picks the service:
#   node --import tsx services/ingest/src/main.ts     (HTTP 3001)
#   node --import tsx services/indexer/src/main.ts    (health/metrics 3002)
#   node --import tsx services/query/src/main.ts      (HTTP 3003, the default)
#   node --import tsx services/jobs/src/main.ts       (health/metrics 3004)
# The same image runs the operator scripts, e.g. `node --import tsx scripts/dlq.ts list`.
FROM node:20-bookworm-slim

WORKDIR /app

# Manifests first: the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY services/runtime/package.json services/runtime/
COPY services/ingest/package.json services/ingest/
COPY services/indexer/package.json services/indexer/
COPY services/query/package.json services/query/
COPY services/jobs/package.json services/jobs/
# Dev dependencies are kept: TypeScript runs through tsx, which the lockfile lists as one.
RUN npm ci --include=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.base.json tsconfig.json ./
COPY shared/ shared/
COPY services/ services/
COPY infra/ infra/
COPY scripts/ scripts/
COPY bench/ bench/

ENV NODE_ENV=production
# Export job files (EXPORT_DIR); mount a volume here to keep them across containers.
RUN mkdir -p /app/exports && chown node:node /app/exports
USER node

EXPOSE 3001 3002 3003 3004
# `node --import tsx` rather than `npx tsx`: node is PID 1 itself and gets SIGTERM directly,
# so the services' graceful shutdown runs on `docker stop`.
CMD ["node", "--import", "tsx", "services/query/src/main.ts"]
