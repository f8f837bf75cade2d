# syntax=docker/dockerfile:1
# Multi-stage: build (dev deps, Prisma client, web bundles) → runtime (prod deps only, non-root).

FROM node:24-slim AS build
WORKDIR /app
ENV NODE_ENV=development
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build-web.mjs && npx tsc --noEmit -p tsconfig.json

FROM node:24-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    LOG_FORMAT=json
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
# postinstall generates the Prisma client (prisma is a runtime dependency for that reason).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/server ./server
COPY --from=build /app/protocol ./protocol
COPY --from=build /app/web ./web
COPY --from=build /app/tsconfig.json ./
RUN mkdir -p /app/.data && chown -R node:node /app/.data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM goes straight to node (no npm wrapper) so the server can drain within its 10 s budget.
CMD ["node", "--import", "tsx", "server/main.ts"]
