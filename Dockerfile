# One image for all four services; compose (or `docker run ... <command>`) picks the service:
#   node --import tsx services/ingest/src/main.ts     (HTTP 3001)
#   node --import tsx services/indexer/src/main.ts    (health/metrics 3002)
#   node --import tsx services/query/src/main.ts      (HTTP 3003, the default; also serves the console)
#   node --import tsx services/jobs/src/main.ts       (health/metrics 3004)
# The same image runs the operator scripts, e.g. `node --import tsx scripts/dlq.ts list`.
#
# Stages: manifests (package files only, for caching) -> build (every dependency; builds the console) ->
# runtime (production dependencies, the sources the services run, the built console; runs as node, not root).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
# Only the package manifests stay, whatever workspaces there are: the `npm ci` layers below are rebuilt only when
# one of them changes, not on every source edit.
RUN find . -type f ! -name package.json ! -name package-lock.json -delete && find . -mindepth 1 -depth -type d -empty -delete

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /src/ ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run console:build

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=manifests /src/ ./
# TypeScript runs through tsx at run time, so tsx is a production dependency.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.base.json tsconfig.json ./
COPY shared/ shared/
COPY services/ services/
COPY infra/ infra/
COPY scripts/ scripts/
# The demo loader's synthetic shop (docker compose exec query node --import tsx scripts/demo-data.ts).
COPY bench/ bench/
COPY --from=build /app/console/dist/ console/dist/

# Export job files (EXPORT_DIR); mount a volume here to keep them across containers.
RUN mkdir -p /app/exports && chown node:node /app/exports
USER node

EXPOSE 3001 3002 3003 3004
# `node --import tsx` rather than `npx tsx`: node is PID 1 itself and gets SIGTERM directly,
# so the services' graceful shutdown runs on `docker stop`.
CMD ["node", "--import", "tsx", "services/query/src/main.ts"]
