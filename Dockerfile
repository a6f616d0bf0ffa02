# syntax=docker/dockerfile:1
# Two images from one build: the gateway (the default target, `docker build .`) and the CPU
# reference backends (`docker build --target reference-backends .`). The gateway's holds none of
# the backends' packages (sharp, the face model, the encoders): docs/deployment.md.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY src/backends/package.json ./src/backends/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY gen ./gen
# One tsc build; the gateway's image gets its part only (no backend code, no shared test support).
RUN npm run build && mkdir gateway && cp -r dist gateway/ && rm -r gateway/dist/backends gateway/dist/shared

FROM node:20-bookworm-slim AS reference-backends
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY src/backends/package.json ./src/backends/
# The workspace too: the backends' own packages, with the gateway's Thrift code they import.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY gen ./gen
USER node
EXPOSE 9090
# Which backend: the command (docker-compose.yml, deploy/k8s/backends.yaml); keypoint by default.
CMD ["node", "dist/backends/keypoint/main.js", "--host", "0.0.0.0", "--port", "9090"]

FROM node:20-bookworm-slim AS gateway
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --workspaces=false --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/gateway/dist ./dist
COPY gen ./gen
COPY idl ./idl
# Jobs (docs/jobs.md) are kept on disk; /app belongs to root, so a directory the node user owns.
RUN mkdir -p /var/lib/visiongate && chown node:node /var/lib/visiongate
ENV JOB_STORE_DIR=/var/lib/visiongate/jobs
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# --expose-gc: big uploads free their socket chunks as they arrive (src/input/read-body.ts).
# --no-memory-reducer: V8's idle-time collections left a gateway that had been idle after a
# big upload collecting fully several times a second under load (docs/performance.md).
CMD ["node", "--expose-gc", "--no-memory-reducer", "dist/server.js"]
