import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { spawnDaemon, type DaemonProcess } from '../helpers/daemonProcess.ts';

/**
 * The Kubernetes manifests (deploy/k8s/) against the daemon they deploy: the
 * probes and the preStop hook point at real routes and a real command, the
 * metric names the HPA and the alerts use are in a real /metrics scrape, and
 * the drain sequence a pod goes through runs for real: the daemon started
 * with the Deployment's environment, calls taken, the preStop hook's own
 * command run (it returns only once the calls have ended), then SIGTERM as
 * the kubelet sends it, and exit 0.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = `${ROOT}deploy/k8s/`;
/** Manifests are free-form YAML: fields are read as the test expects them and a wrong shape fails the test. */
type Doc = Record<string, any>;

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const docs = new Map<string, Doc[]>(
  files.map((f) => {
    const parsed = parseAllDocuments(readFileSync(DIR + f, 'utf8'));
    for (const d of parsed) if (d.errors.length > 0) throw new Error(`${f}: ${d.errors.map((e) => e.message).join('; ')}`);
    return [f, parsed.map((d) => d.toJS() as Doc)];
  }),
);
const byKind = (kind: string): Doc => [...docs.values()].flat().find((d) => d.kind === kind)!;
const deployment = byKind('Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const secret = byKind('Secret').stringData as Record<string, string>;

/** The container's environment as the kubelet resolves it: secret keys from the example Secret, the pod IP as loopback. */
function containerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env as Doc[]) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom.secretKeyRef !== undefined) {
      const v = secret[e.valueFrom.secretKeyRef.key];
      if (v !== undefined && v !== '') env[e.name] = v;
    } else if (e.valueFrom.fieldRef?.fieldPath === 'status.podIP') env[e.name] = '127.0.0.1';
    else throw new Error(`unresolved env ${e.name}`);
  }
  return env;
}
const ENV = containerEnv();
const CONTROL = { authorization: `Bearer ${ENV.SWITCHBOARD_CONTROL_TOKEN}` };
const JSON_CONTROL = { ...CONTROL, 'content-type': 'application/json' };

let daemon: DaemonProcess;
let exited: Promise<unknown[]>;
let base: string;
let port: number;

beforeAll(async () => {
  // On loopback here (port 0, one media worker): everything else as the pod runs it.
  daemon = spawnDaemon([], { ...ENV, SWITCHBOARD_HOST: '127.0.0.1', SWITCHBOARD_PORT: '0', SWITCHBOARD_MEDIA_WORKERS: '1' });
  exited = once(daemon.child, 'exit');
  // Generous: the workers' start is CPU-bound and a contended machine slows it many times over.
  port = Number((await daemon.logged((l) => l.msg === 'listening', 'listening', 60_000)).port);
  base = `http://127.0.0.1:${port}`;
  await vi.waitFor(async () => expect((await fetch(`${base}/readyz`)).status).toBe(200), { timeout: 20_000, interval: 50 });
}, 90_000);
afterAll(() => {
  daemon?.child.kill('SIGKILL');
});

describe('deploy/k8s manifests', () => {
  it('parse, and kustomization lists every manifest but the example Secret', () => {
    const listed = byKind('Kustomization').resources as string[];
    for (const f of listed) expect(existsSync(DIR + f), f).toBe(true);
    expect([...listed, 'kustomization.yaml', 'secret.example.yaml'].sort()).toEqual([...files].sort());
  });

  it('probe the daemon’s real routes on the port it listens on', async () => {
    const http = container.ports.find((p: Doc) => p.name === 'http');
    expect(String(http.containerPort)).toBe(ENV.SWITCHBOARD_PORT);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      expect((await fetch(`${base}${probe.httpGet.path}`)).status).toBe(200);
    }
  });

  it('give a pod more time to stop than its drain deadline, and run it as a non-root user', () => {
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(ENV.SWITCHBOARD_DRAIN_DEADLINE_MS));
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).not.toBe(0);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
  });

  it('scale and alert on metric names a real /metrics scrape publishes', async () => {
    // Labelled counters appear once counted: one malformed request for the bad-input alert's series.
    expect((await fetch(`${base}/v1/calls`, { method: 'POST', headers: JSON_CONTROL, body: '{"transport":' })).status).toBe(400);
    // Per-transport series appear once a call of that transport has been seen.
    const call = await fetch(`${base}/v1/calls`, { method: 'POST', headers: JSON_CONTROL, body: '{"transport":"synthetic"}' });
    expect(call.status).toBe(201);
    const scrape = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ENV.SWITCHBOARD_STATUS_TOKEN}` } })).text();
    const { id } = (await call.json()) as { id: string };
    expect((await fetch(`${base}/v1/calls/${id}`, { method: 'DELETE', headers: CONTROL })).status).toBe(204);
    const published = new Set([...scrape.matchAll(/^(switchboard_\w+)/gm)].map((m) => m[1]!));
    const used = new Set([...files.map((f) => readFileSync(DIR + f, 'utf8')).join('\n').matchAll(/\bswitchboard_[a-z_]+\b/g)].map((m) => m[0]));
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((n) => !published.has(n))).toEqual([]);
    const hpa = byKind('HorizontalPodAutoscaler');
    const rule = byKind('ConfigMap').data['config.yaml'] as string;
    expect(hpa.spec.metrics[0].pods.metric.name).toBe('switchboard_calls_active');
    expect(rule).toContain('as: "switchboard_calls_active"');
  });

  it('stop a pod as Kubernetes does: the preStop hook drains and waits for the calls, then SIGTERM exits 0', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${base}/v1/calls`, { method: 'POST', headers: JSON_CONTROL, body: '{"transport":"synthetic"}' });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    // The hook's command exactly as the manifest has it, with the container's environment, from the image's working directory.
    const [cmd, ...args] = container.lifecycle.preStop.exec.command as string[];
    expect(cmd).toBe('node');
    const hook = spawn(process.execPath, [...args, '--interval-ms', '100'], {
      cwd: ROOT,
      env: { ...process.env, ...ENV, SWITCHBOARD_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    hook.stdout.on('data', (c: Buffer) => (out += c.toString()));
    hook.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const hookExit = once(hook, 'exit');

    // Out of rotation at once, alive all along (liveness must not kill a draining pod), new calls refused.
    await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 10_000, interval: 50 }).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const refused = await fetch(`${base}/v1/calls`, { method: 'POST', headers: JSON_CONTROL, body: '{"transport":"synthetic"}' });
    expect(refused.status).toBe(503);
    // The hook waits while calls are live.
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.exitCode).toBeNull();
    for (const id of ids) {
      expect((await fetch(`${base}/v1/calls/${id}`, { headers: CONTROL })).status).toBe(200);
      expect((await fetch(`${base}/v1/calls/${id}`, { method: 'DELETE', headers: CONTROL })).status).toBe(204);
    }
    expect((await hookExit)[0], out).toBe(0);
    expect(out).toContain('"msg":"drained"');

    daemon.child.kill('SIGTERM');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const msgs = daemon.lines.map((l) => l.msg);
    expect(msgs).toContain('drain finished');
    expect(daemon.lines.at(-1)).toMatchObject({ msg: 'stopped', code: 0 });
  });
});
