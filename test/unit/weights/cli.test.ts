import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOGUE_FILE_ENV, BASE_URL_ENV } from '../../../src-main/core/weights/catalogue.ts';
import { fixture, servedFiles, sha256Of, testCatalogue, writeCatalogueFile } from '../../helpers/weights-catalogue.ts';
import { startForwardProxy, startWeightsServer, type ForwardProxy, type WeightsServer } from '../../helpers/weights-server.ts';

const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
const catalogue = testCatalogue();
let root: string;
let home: string;
let server: WeightsServer;
let proxy: ForwardProxy;
let env: NodeJS.ProcessEnv;

const running: ChildProcess[] = [];

/** The CLI in a child process (asynchronously: the download site and the proxy run in this one). */
function run(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 90_000, env: { ...env, ...extraEnv } }, (err, stdout, stderr) => {
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    running.push(child);
  });
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!condition()) throw new Error('timed out');
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'stm-weights-cli-'));
  home = join(root, 'home');
  // A certificate for 127.0.0.1 that the child process trusts through NODE_EXTRA_CA_CERTS, so the download is
  // real HTTPS through the proxy's CONNECT tunnel, as from a lab network.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(root, 'key.pem'), '-out', join(root, 'cert.pem'),
  ], { stdio: 'ignore' });
  server = await startWeightsServer(servedFiles(catalogue), { key: readFileSync(join(root, 'key.pem'), 'utf8'), cert: readFileSync(join(root, 'cert.pem'), 'utf8') });
  proxy = await startForwardProxy();
  const { HTTP_PROXY: _a, HTTPS_PROXY: _b, NO_PROXY: _c, http_proxy: _d, https_proxy: _e, no_proxy: _f, ...clean } = process.env;
  env = {
    ...clean,
    STM_STUDIO_HOME: home,
    [CATALOGUE_FILE_ENV]: writeCatalogueFile(root, catalogue),
    [BASE_URL_ENV]: server.url,
    NODE_EXTRA_CA_CERTS: join(root, 'cert.pem'),
  };
});

afterAll(async () => {
  await server.close();
  await proxy.close();
  rmSync(root, { recursive: true, force: true });
});

describe('stm-studio weights', () => {
  it('list: the catalogue with sizes, hashes, licences and what is downloaded', async () => {
    const r = await run(['weights', 'list', '--json']);
    expect(r.status).toBe(0);
    const listing = JSON.parse(r.stdout) as { cacheDir: string; catalogue: Array<{ name: string; status: string; downloadUrl: string; licence: string }> };
    expect(listing.cacheDir).toBe(join(home, 'weights'));
    expect(listing.catalogue.map((e) => e.name)).toEqual(['resnet50-imagenet1k-v1', 'resnet50-imagenet1k-v2', 'tsm-r50-kinetics400', 'tsm-r50-sthv2', 'tampered', 'moved']);
    expect(listing.catalogue.every((e) => e.status === 'missing')).toBe(true);
    expect(listing.catalogue[2].downloadUrl).toMatch(new RegExp(`^${server.url}/mmaction/v1\\.0/recognition/tsm/.*/weights-tsm-k400-tiny\\.pth$`));
    expect(listing.catalogue[2].licence).toMatch(/Apache-2\.0/);
  });

  it('get: downloads over HTTPS through the proxy in HTTPS_PROXY, with rate and ETA, verified', async () => {
    server.throttleMs = 10;
    const r = await run(['weights', 'get', 'tsm-r50-kinetics400'], { HTTPS_PROXY: proxy.url });
    server.throttleMs = 0;
    expect(r.stderr).toMatch(/tsm-r50-kinetics400 \(MB\): .*MB\/s/);
    expect(r.status).toBe(0);
    const sha256 = sha256Of(fixture('weights-tsm-k400-tiny.pth'));
    expect(r.stdout).toBe(`tsm-r50-kinetics400: ${join(home, 'weights', 'weights-tsm-k400-tiny.pth')} (2.1 MB, sha256 ${sha256})\n`);
    expect(proxy.seen).toContain(`CONNECT ${new URL(server.url).host}`);
    const list = await run(['weights', 'list']);
    expect(list.stdout).toMatch(/^tsm-r50-kinetics400 {2}downloaded$/m);
    expect(list.stdout).toMatch(/^tsm-r50-sthv2 {2}not downloaded$/m);
  });

  it('get: Ctrl-C cancels and keeps what was downloaded; the next run resumes it with a Range request', async () => {
    server.throttleMs = 40;
    const first = run(['weights', 'get', 'tsm-r50-sthv2']);
    await waitFor(() => existsSync(join(home, 'weights', 'weights-tsm-sthv2-tiny.pth.partial')) && statSync(join(home, 'weights', 'weights-tsm-sthv2-tiny.pth.partial')).size > 200_000);
    running.at(-1)!.kill('SIGINT');
    const cancelled = await first;
    expect(cancelled.status).toBe(130);
    expect(cancelled.stderr).toMatch(/Download of tsm-r50-sthv2 cancelled; \d+\.\d MB kept in .*weights-tsm-sthv2-tiny\.pth\.partial: "stm-studio weights get tsm-r50-sthv2" resumes it\./);
    const kept = statSync(join(home, 'weights', 'weights-tsm-sthv2-tiny.pth.partial')).size;
    server.throttleMs = 0;
    const resumed = await run(['weights', 'get', 'tsm-r50-sthv2']);
    expect(resumed.status).toBe(0);
    expect(server.requests.at(-1)!.range).toBe(`bytes=${kept}-`);
    expect(readdirSync(join(home, 'weights')).filter((f) => f.includes('sthv2'))).toEqual(['weights-tsm-sthv2-tiny.pth', 'weights-tsm-sthv2-tiny.pth.json']);
  });

  it('get: a 404 and a checksum mismatch fail with the reason, exit 1, and leave nothing in the cache', async () => {
    const before = readdirSync(join(home, 'weights')).sort();
    const missing = await run(['weights', 'get', 'moved']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`error: ${server.url}/models/gone-00000000.pth: HTTP 404 Not Found.`);
    const tampered = await run(['weights', 'get', 'tampered']);
    expect(tampered.status).toBe(1);
    expect(tampered.stderr).toMatch(/error: .*weights-resnet18-tiny\.pth: checksum mismatch for tampered: .* The downloaded file was deleted/);
    expect(readdirSync(join(home, 'weights')).sort()).toEqual(before);
  });

  it('import: a known file is filed under its catalogue name, an unknown ResNet as custom, ResNet-18 refused', async () => {
    const offline = join(root, 'from a USB stick.pth');
    copyFileSync(fixture('weights-resnet-tiny.pth'), offline);
    const known = await run(['weights', 'import', offline]);
    expect(known.status).toBe(0);
    expect(known.stdout).toBe(
      `resnet50-imagenet1k-v1: filed in the cache at ${join(home, 'weights', 'weights-resnet-tiny.pth')} (ResNet-50, ImageNet-1k (torchvision IMAGENET1K_V1), recognised by its sha256 ${sha256Of(offline)})\n`,
    );

    const lab = join(root, 'lab-resnet.pth');
    copyFileSync(fixture('weights-resnet-tiny.pth'), lab);
    // Not the catalogue's ResNet (that one is the same bytes): strip its entry by running with the built-in catalogue.
    const custom = await run(['weights', 'import', lab, '--json'], { [CATALOGUE_FILE_ENV]: '' });
    expect(custom.status).toBe(0);
    const imported = JSON.parse(custom.stdout) as { entry: null; weights: { name: string; path: string }; check: { source: string; layers: number[]; width: number } };
    expect(imported).toMatchObject({ entry: null, weights: { name: 'custom-lab-resnet' }, check: { source: 'torchvision', layers: [1, 1, 1, 1], width: 16 } });
    expect(existsSync(imported.weights.path)).toBe(true);

    const resnet18 = await run(['weights', 'import', fixture('weights-resnet18-tiny.pth')]);
    expect(resnet18.status).toBe(1);
    expect(resnet18.stderr).toContain(`error: ${fixture('weights-resnet18-tiny.pth')}: a ResNet with basic blocks`);
    expect(readdirSync(join(home, 'weights', 'custom')).sort()).toEqual(['custom-lab-resnet.pth', 'custom-lab-resnet.pth.json']);
  });

  it('get: a failed write (file too large, disk full) says so and keeps what was written; the next run resumes', async () => {
    const cached = join(home, 'weights', 'weights-tsm-k400-tiny.pth');
    rmSync(cached);
    rmSync(`${cached}.json`);
    // `ulimit -f` caps file size at 1000 KiB (bash counts 1024-byte blocks): the write past it fails with EFBIG, like a full disk.
    const capped = await new Promise<{ status: number; stderr: string }>((resolve) => {
      execFile('bash', ['-c', `ulimit -f 1000; exec "${process.execPath}" "${bin}" weights get tsm-r50-kinetics400`], { encoding: 'utf8', env }, (err, _stdout, stderr) =>
        resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(capped.status).toBe(1);
    expect(capped.stderr).toContain(`error: Cannot write (EFBIG: file too large, write) while downloading into ${cached}.partial; 1.0 MB kept: free some space and run again to resume.`);
    expect(statSync(`${cached}.partial`).size).toBe(1_024_000);
    const resumed = await run(['weights', 'get', 'tsm-r50-kinetics400']);
    expect(resumed.status).toBe(0);
    expect(server.requests.at(-1)!.range).toBe('bytes=1024000-');
    expect(sha256Of(cached)).toBe(sha256Of(fixture('weights-tsm-k400-tiny.pth')));
  });
});
