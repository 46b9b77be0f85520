import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadEntry, type DownloadProgress } from '../../../src-main/core/weights/download.ts';
import { cachedEntry, cachedPathOf, partialBytesOf } from '../../../src-main/core/weights/cache.ts';
import { fetchWeights, cancelWeightsDownload } from '../../../src-main/core/weights/downloads.ts';
import { listStartingPoints } from '../../../src-main/core/weights/starting-points.ts';
import { findEntry } from '../../../src-main/core/weights/catalogue.ts';
import { readWeightsFile } from '../../../src-main/core/model/pretrained.ts';
import { fixture, servedFiles, sha256Of, testCatalogue } from '../../helpers/weights-catalogue.ts';
import { startForwardProxy, startWeightsServer, type WeightsServer } from '../../helpers/weights-server.ts';

const catalogue = testCatalogue();
const entry = (name: string) => catalogue.find((e) => e.name === name)!;
const saved = { home: process.env.STM_STUDIO_HOME, base: process.env.STM_STUDIO_WEIGHTS_URL, proxy: process.env.HTTP_PROXY, noProxy: process.env.NO_PROXY };
let server: WeightsServer;
let home: string;

beforeAll(async () => {
  server = await startWeightsServer(servedFiles(catalogue));
  process.env.STM_STUDIO_WEIGHTS_URL = server.url;
});

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'stm-weights-'));
  process.env.STM_STUDIO_HOME = home;
  server.requests.length = 0;
  server.throttleMs = 0;
});

afterEach(() => rmSync(home, { recursive: true, force: true }));

afterAll(async () => {
  await server.close();
  for (const [key, value] of [['STM_STUDIO_HOME', saved.home], ['STM_STUDIO_WEIGHTS_URL', saved.base], ['HTTP_PROXY', saved.proxy], ['NO_PROXY', saved.noProxy]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

/** Everything in the cache folder, so a test can say nothing half-written was left. */
const cacheFiles = (): string[] => (existsSync(join(home, 'weights')) ? readdirSync(join(home, 'weights'), { recursive: true }).map(String).sort() : []);

describe('downloading catalogue weights', () => {
  it('downloads, verifies the whole sha256 and caches once per user; a second get does not touch the network', async () => {
    const progress: DownloadProgress[] = [];
    const weights = await downloadEntry(entry('resnet50-imagenet1k-v1'), { onProgress: (p) => progress.push(p) });
    expect(weights.path).toBe(join(home, 'weights', 'weights-resnet-tiny.pth'));
    expect(weights.sha256).toBe(sha256Of(fixture('weights-resnet-tiny.pth')));
    expect(readFileSync(weights.path).equals(readFileSync(fixture('weights-resnet-tiny.pth')))).toBe(true);
    expect(readWeightsFile(weights.path).tensors.get('layer1.0.conv3.weight')?.shape).toEqual([64, 16, 1, 1]);
    expect(cacheFiles()).toEqual(['weights-resnet-tiny.pth', 'weights-resnet-tiny.pth.json']);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ phase: 'verifying', done: weights.bytes, total: weights.bytes, note: 'verified' });
    expect(progress.some((p) => p.phase === 'downloading' && p.total === weights.bytes)).toBe(true);

    const again = await downloadEntry(entry('resnet50-imagenet1k-v1'));
    expect(again.sha256).toBe(weights.sha256);
    expect(server.requests).toHaveLength(1);
    const listed = listStartingPoints(catalogue).catalogue.find((e) => e.name === 'resnet50-imagenet1k-v1')!;
    expect(listed.status).toBe('cached');
    expect(listStartingPoints(catalogue).catalogue.find((e) => e.name === 'tsm-r50-sthv2')!.status).toBe('missing');
  });

  it('checks the published sha256 prefix where no whole hash is published', async () => {
    const weights = await downloadEntry(entry('tsm-r50-kinetics400'));
    expect(weights.sha256.startsWith(entry('tsm-r50-kinetics400').sha256)).toBe(true);
    expect(weights.sha256).toHaveLength(64);
    expect(cachedEntry(entry('tsm-r50-kinetics400'))?.sha256).toBe(weights.sha256);
  });

  it('resumes with a Range request when the server cuts the connection halfway', async () => {
    const file = fixture('weights-tsm-sthv2-tiny.pth');
    const size = statSync(file).size;
    const path = new URL(entry('tsm-r50-sthv2').url).pathname;
    server.cutNext(path, Math.floor(size / 2));
    const progress: DownloadProgress[] = [];
    const weights = await downloadEntry(entry('tsm-r50-sthv2'), { onProgress: (p) => progress.push(p) });
    expect(server.requests.map((r) => r.range)).toEqual([null, expect.stringMatching(/^bytes=\d+-$/)]);
    const resumedAt = Number(/bytes=(\d+)-/.exec(server.requests[1].range!)![1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(Math.floor(size / 2));
    expect(progress.some((p) => p.phase === 'retrying' && /connection cut/.test(p.note ?? ''))).toBe(true);
    expect(weights.sha256).toBe(sha256Of(file));
    expect(readFileSync(weights.path).equals(readFileSync(file))).toBe(true);
  });

  it('keeps resuming a link that is cut again and again while it makes progress, and gives up on one that makes none', async () => {
    const flaky = entry('tsm-r50-kinetics400');
    const path = new URL(flaky.url).pathname;
    server.cutNext(path, 150_000, 8);
    const weights = await downloadEntry(flaky, { retries: 2 });
    expect(server.requests).toHaveLength(9);
    expect(weights.sha256).toBe(sha256Of(fixture('weights-tsm-k400-tiny.pth')));

    const dead = entry('tsm-r50-sthv2');
    const deadPath = new URL(dead.url).pathname;
    server.cutNext(deadPath, 100_000);
    server.requests.length = 0;
    await expect(downloadEntry(dead, { retries: 0 })).rejects.toThrow(/The connection to .*weights-tsm-sthv2-tiny\.pth was cut 1 time in a row; 0\.1 MB of 2\.0 MB kept in .*\.partial: run again to resume\./);
    server.cutNext(deadPath, 0, 3);
    await expect(downloadEntry(dead, { retries: 2 })).rejects.toThrow(/was cut 3 times in a row; 0\.1 MB of 2\.0 MB kept/);
    expect(server.requests.slice(1).map((r) => r.range)).toEqual(['bytes=100000-', 'bytes=100000-', 'bytes=100000-']);
  });

  it('can be cancelled, keeps what it has, and a later run (a restart) resumes from there', async () => {
    server.throttleMs = 15;
    const e = entry('resnet50-imagenet1k-v1');
    const controller = new AbortController();
    let seen = 0;
    const first = downloadEntry(e, {
      signal: controller.signal,
      onProgress: (p) => {
        seen = p.done;
        if (p.done > 300_000) controller.abort();
      },
    });
    await expect(first).rejects.toThrow(/Download of resnet50-imagenet1k-v1 cancelled; .* MB kept in .*\.partial: "stm-studio weights get resnet50-imagenet1k-v1" resumes it/);
    expect(seen).toBeGreaterThan(300_000);
    const kept = partialBytesOf(e);
    expect(kept).toBeGreaterThan(300_000);
    expect(existsSync(cachedPathOf(e))).toBe(false);
    expect(listStartingPoints(catalogue).catalogue.find((x) => x.name === e.name)).toMatchObject({ status: 'partial', partialBytes: kept });

    server.throttleMs = 0;
    const weights = await downloadEntry(e);
    expect(server.requests.at(-1)!.range).toBe(`bytes=${kept}-`);
    expect(weights.sha256).toBe(e.sha256);
    expect(cacheFiles()).toEqual(['weights-resnet-tiny.pth', 'weights-resnet-tiny.pth.json']);
  });

  it('joins a running download and cancels it from another caller', async () => {
    server.throttleMs = 15;
    const e = entry('tsm-r50-kinetics400');
    const a = fetchWeights(e);
    const b = fetchWeights(e, (p) => {
      if (p.done > 200_000) cancelWeightsDownload(e.name);
    });
    await expect(a).rejects.toThrow(/cancelled/);
    await expect(b).rejects.toThrow(/cancelled/);
    expect(server.requests).toHaveLength(1);
  });

  it('deletes a file whose checksum does not match and says so', async () => {
    const e = entry('tampered');
    await expect(downloadEntry(e)).rejects.toThrow(
      new RegExp(`${server.url}/models/weights-resnet18-tiny\\.pth: checksum mismatch for tampered: expected sha256 ${e.sha256}, got sha256 ${sha256Of(fixture('weights-resnet18-tiny.pth'))}\\. The downloaded file was deleted; nothing was added to the cache\\.`),
    );
    expect(cacheFiles()).toEqual([]);
  });

  it('never lets two processes append to one partial file; a lock of a process that is gone is taken over', async () => {
    const e = entry('tsm-r50-sthv2');
    mkdirSync(join(home, 'weights'), { recursive: true });
    const lock = `${cachedPathOf(e)}.partial.lock`;
    writeFileSync(lock, String(process.ppid));
    await expect(downloadEntry(e)).rejects.toThrow(`tsm-r50-sthv2 is being downloaded by another STM Studio process (pid ${process.ppid}); wait for it, or stop it and run again.`);
    expect(server.requests).toHaveLength(0);
    writeFileSync(lock, '2147483646');
    const weights = await downloadEntry(e);
    expect(weights.sha256.startsWith(e.sha256)).toBe(true);
    expect(existsSync(lock)).toBe(false);
  });

  it('adopts a verified file whose record was never written (stopped between rename and record)', async () => {
    const e = entry('resnet50-imagenet1k-v1');
    mkdirSync(join(home, 'weights'), { recursive: true });
    copyFileSync(fixture('weights-resnet-tiny.pth'), cachedPathOf(e));
    expect(cachedEntry(e)).toBeNull();
    const weights = await downloadEntry(e);
    expect(weights.sha256).toBe(e.sha256);
    expect(server.requests).toHaveLength(0);
    expect(cacheFiles()).toEqual(['weights-resnet-tiny.pth', 'weights-resnet-tiny.pth.json']);
  });

  it('names the known weights when asked for an unknown name', () => {
    expect(() => findEntry(catalogue, 'resnet-2000')).toThrow('No weights named "resnet-2000" in the catalogue (known: resnet50-imagenet1k-v1, tsm-r50-kinetics400,');
  });

  it('reports a 404 with the URL and writes nothing', async () => {
    await expect(downloadEntry(entry('moved'))).rejects.toThrow(
      `${server.url}/models/gone-00000000.pth: HTTP 404 Not Found. The catalogue entry "moved" may have moved; fetch the file by hand and use "stm-studio weights import FILE".`,
    );
    expect(cacheFiles()).toEqual([]);
  });

  it('goes through the proxy in HTTP_PROXY, and straight to hosts in NO_PROXY', async () => {
    const proxy = await startForwardProxy();
    try {
      process.env.HTTP_PROXY = proxy.url;
      delete process.env.NO_PROXY;
      const host = new URL(server.url).host;
      await downloadEntry(entry('resnet50-imagenet1k-v1'));
      expect(proxy.seen.length).toBeGreaterThan(0);
      expect(proxy.seen.join('\n')).toContain(host);

      proxy.seen.length = 0;
      process.env.NO_PROXY = '127.0.0.1';
      await downloadEntry(entry('tsm-r50-kinetics400'));
      expect(proxy.seen).toEqual([]);
      expect(cachedEntry(entry('tsm-r50-kinetics400'))).not.toBeNull();
    } finally {
      delete process.env.HTTP_PROXY;
      delete process.env.NO_PROXY;
      await proxy.close();
    }
  });

  it('says which proxy failed when it cannot be reached', async () => {
    process.env.HTTP_PROXY = 'http://127.0.0.1:9';
    try {
      await expect(downloadEntry(entry('resnet50-imagenet1k-v1'), { retries: 1 })).rejects.toThrow(/Cannot reach http:\/\/127\.0\.0\.1:\d+\/models\/weights-resnet-tiny\.pth: .*Offline\?/);
      expect(cacheFiles()).toEqual([]);
    } finally {
      delete process.env.HTTP_PROXY;
    }
  });
});
