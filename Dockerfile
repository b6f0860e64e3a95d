# Switchboard: the daemon in a container (docs/scale-out.md, deploy/k8s/).
#
# Two stages: `build` installs every dependency and compiles the
# AssemblyScript DSP kernels to WebAssembly and the TypeScript to dist/;
# `runtime` carries only what `switchboard start` loads (dist/, the release
# WASM, production node_modules) and runs as the unprivileged `node` user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are skipped (a devDependency's would download native binaries the build does not use);
# the build below is the one the package's `prepare` runs.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY asconfig.json tsconfig.json tsconfig.build.json ./
COPY assembly ./assembly
COPY src ./src
COPY bin ./bin
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    # As `npm start` runs it: freed audio buffers go back to the OS after a spike (src/cli/start.ts).
    MALLOC_MMAP_THRESHOLD_=65536 \
    SWITCHBOARD_HOST=0.0.0.0 \
    SWITCHBOARD_PORT=8080
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/build/dsp.wasm ./build/dsp.wasm
COPY --from=build /app/bin ./bin
USER node
# HTTP (control API, Twilio webhook and Media Streams, /metrics); RTP even ports, RTCP odd.
EXPOSE 8080/tcp 10000-20000/udp
ENTRYPOINT ["node", "bin/switchboard.js"]
CMD ["start"]
