# syntax=docker/dockerfile:1
#
# NExtLong fleet image: one image for every role (`nextlong run`, `coordinator`, `worker`, `status`,
# `chunk`). Build from the repository root:
#
#   docker build -t nextlong:0.1.0 .
#   docker build -t nextlong:0.1.0-cuda --build-arg ONNXRUNTIME_CUDA=true .   # see ONNXRUNTIME_CUDA
#
# Stages: `build` installs every dependency from the lock file, compiles the TypeScript workspaces,
# drops the dev dependencies and pre-builds the static embedding model; `runtime` is Debian slim
# with production dependencies only, a non-root user and tini as PID 1 (so SIGTERM reaches Node and
# workers hand their shards back within their grace period).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build

# ONNXRUNTIME_CUDA: onnxruntime-node ships its CPU binaries in the npm package; its install script
# (which downloads the CUDA 12 execution-provider libraries from NuGet) is disabled by the root
# package.json "allowScripts" policy. With ONNXRUNTIME_CUDA=true that script is run explicitly
# (needs api.nuget.org to be reachable during the build). The CUDA provider libraries also need the
# CUDA 12 / cuDNN 9 runtime in the image (e.g. NODE_IMAGE based on nvidia/cuda) and a GPU at run
# time; the embedder creates CPU sessions unless told otherwise, so the default build is CPU only.
ARG ONNXRUNTIME_CUDA=false

# zstd-napi (and usearch, if no prebuilt binary matches) compile natively with node-gyp.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*

ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

WORKDIR /app

# Manifests first, so that the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
COPY apps/cli/package.json apps/cli/
COPY apps/coordinator/package.json apps/coordinator/
COPY apps/embed-worker/package.json apps/embed-worker/
COPY apps/synth-worker/package.json apps/synth-worker/
COPY packages/core/package.json packages/core/
COPY packages/embedding/package.json packages/embedding/
COPY packages/fleet/package.json packages/fleet/
COPY packages/metrics/package.json packages/metrics/
COPY packages/pipeline/package.json packages/pipeline/
COPY packages/storage/package.json packages/storage/
COPY packages/testing/package.json packages/testing/
COPY packages/tokenizers/package.json packages/tokenizers/
COPY packages/vectors/package.json packages/vectors/

# Install from the lock without running any install script, then run exactly the scripts that the
# root package.json "allowScripts" allows (the same policy `npm ci` applies on npm >= 11.x; the
# npm 10 of the base image does not know the field, so it is applied here by hand).
RUN npm ci --ignore-scripts \
 && allowed="$(node -e 'const a = require("./package.json").allowScripts ?? {}; console.log(Object.keys(a).filter((k) => a[k] === true).join(" "))')" \
 && echo "running install scripts of: ${allowed}" \
 && npm rebuild ${allowed}

RUN if [ "${ONNXRUNTIME_CUDA}" = "true" ]; then \
      cd node_modules/onnxruntime-node && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js; \
    fi

COPY . .
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && find packages apps -name '*.tsbuildinfo' -delete

# The static embedding model (GloVe 100-d → ONNX) is built once here instead of at every worker
# start. A tiny run on one demo file builds it into NEXTLONG_CACHE and checks, with production
# dependencies only, that the whole pipeline (ONNX Runtime, usearch, zstd, tokenizers) loads.
ENV NEXTLONG_CACHE=/opt/nextlong/cache
RUN node apps/cli/bin/nextlong.js run --input demo/corpus/docs-a-part0.jsonl.zst --out /tmp/smoke \
      --sequences 2 --target-tokens 4096 --concurrency 1 --quiet \
 && test -f /opt/nextlong/cache/models/static-glove100-v1/model.onnx \
 && rm -rf /tmp/smoke /tmp/nextlong*

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 nextlong \
 && useradd --system --uid 10001 --gid nextlong --home-dir /home/nextlong --create-home --shell /usr/sbin/nologin nextlong

WORKDIR /app
# Application and model are owned by root and only read by the nextlong user.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/apps ./apps
COPY --from=build /app/packages ./packages
COPY --from=build /app/demo ./demo
COPY --from=build /opt/nextlong/cache /opt/nextlong/cache

# NEXTLONG_CACHE: the pre-built static model (read-only is fine: it is only read when present).
ENV NEXTLONG_CACHE=/opt/nextlong/cache

USER 10001:10001

# /metrics, /healthz, /readyz of `nextlong coordinator` and `nextlong worker` (NEXTLONG_METRICS_ADDR).
EXPOSE 9464

ENTRYPOINT ["tini", "--", "node", "apps/cli/bin/nextlong.js"]
CMD ["--help"]
