# syntax=docker/dockerfile:1
#
# One Dockerfile, one runtime target per component:
#   docker build --target gateway      -t agentmon/gateway .
#   docker build --target ingest       -t agentmon/ingest .
#   docker build --target auth         -t agentmon/auth .
#   docker build --target registry     -t agentmon/registry .
#   docker build --target alerting     -t agentmon/alerting .
#   docker build --target notification -t agentmon/notification .
#   docker build --target web          -t agentmon/web .
#
# The build never reaches the internet beyond the npm registry (`npm ci` with the lockfile): Nx Cloud
# and Next.js telemetry are off and the dashboard loads no remote fonts. No HEALTHCHECK: Kubernetes
# probes /health/live and /health/ready (see helm/agentmon).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
ENV NEXT_TELEMETRY_DISABLED=1 \
    NX_DAEMON=false \
    NX_NO_CLOUD=true \
    NX_SKIP_NX_CACHE=true \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
WORKDIR /app

# Only the package manifests and the lockfile, so that the `npm ci` layers below stay cached until a
# dependency changes (a source edit changes none of these files). Every workspace is found by `find`,
# so a new library or service needs no edit here.
FROM base AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
 && cp package.json package-lock.json /manifests/ \
 && if [ -f .npmrc ]; then cp .npmrc /manifests/; fi \
 && find libs services web -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /manifests/ \;

# All dependencies, dev included (TypeScript, Nx, Next.js' build): the build stage needs them.
FROM base AS deps
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund

# Runtime dependencies only; every runtime image shares this layer.
FROM base AS prod-deps
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Builds the libraries, the six services and the dashboard with Nx, then gathers what runs:
# package.json and dist/ of every library and service, and the Next.js build of the dashboard
# (without its build cache).
FROM deps AS build
COPY . .
RUN npx nx run-many -t build --output-style=stream \
 && mkdir -p /out \
 && for d in libs/* services/*; do \
      if [ -f "$d/package.json" ]; then \
        mkdir -p "/out/$d" && cp "$d/package.json" "/out/$d/"; \
        if [ -d "$d/dist" ]; then cp -R "$d/dist" "/out/$d/dist"; fi; \
      fi; \
    done \
 && mkdir -p /out/web \
 && cp web/package.json web/next.config.ts web/tsconfig.json /out/web/ \
 && cp -R web/.next /out/web/.next && rm -rf /out/web/.next/cache \
 && if [ -d web/public ]; then cp -R web/public /out/web/public; fi \
 && find /out -name '*.tsbuildinfo' -delete

# What every runtime image has: Node.js, production node_modules (workspace packages are symlinks
# into libs/, services/ and web/), the built libraries. Files belong to root and are read-only for
# the unprivileged user `node` (uid 1000) that runs the process.
FROM base AS runtime
ENV NODE_ENV=production
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /out/libs ./libs
USER 1000:1000

# ---------------------------------------------------------------------------------------------------
FROM runtime AS gateway
COPY --from=build /out/services/gateway ./services/gateway
ENV PORT=8000
EXPOSE 8000
CMD ["node", "services/gateway/dist/main.js"]

FROM runtime AS ingest
COPY --from=build /out/services/ingest ./services/ingest
ENV PORT=8001
EXPOSE 8001
# Node options: scripts/lib/node-flags.mjs (why), the same for npm start and the benchmark
CMD ["node", "--max-semi-space-size=4", "--single-threaded-gc", "services/ingest/dist/main.js"]

FROM runtime AS auth
COPY --from=build /out/services/auth ./services/auth
ENV PORT=8002
EXPOSE 8002
CMD ["node", "services/auth/dist/main.js"]

FROM runtime AS registry
COPY --from=build /out/services/registry ./services/registry
ENV PORT=8003
EXPOSE 8003
CMD ["node", "services/registry/dist/main.js"]

FROM runtime AS alerting
COPY --from=build /out/services/alerting ./services/alerting
ENV PORT=8004
EXPOSE 8004
CMD ["node", "services/alerting/dist/main.js"]

FROM runtime AS notification
COPY --from=build /out/services/notification ./services/notification
ENV PORT=8005
EXPOSE 8005
CMD ["node", "services/notification/dist/main.js"]

# The dashboard: `next start` on PORT (read by Next.js), from the web/ folder. Next.js writes only to
# .next/cache at run time; the Helm chart mounts an emptyDir there so the root filesystem can stay
# read-only.
FROM runtime AS web
COPY --from=build /out/web ./web
WORKDIR /app/web
ENV PORT=3000
EXPOSE 3000
CMD ["node", "/app/node_modules/next/dist/bin/next", "start"]
