# syntax=docker/dockerfile:1
# One image for the gateway and the CPU reference backends (they share the generated Thrift code).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY gen ./gen
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY gen ./gen
COPY idl ./idl
# Jobs (docs/jobs.md) are kept on disk; /app belongs to root, so a directory the node user owns.
RUN mkdir -p /var/lib/visiongate && chown node:node /var/lib/visiongate
ENV JOB_STORE_DIR=/var/lib/visiongate/jobs
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# --expose-gc: big uploads free their socket chunks as they arrive (src/input/read-body.ts).
CMD ["node", "--expose-gc", "dist/server.js"]
