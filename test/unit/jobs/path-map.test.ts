import { describe, expect, it } from 'vitest';
import { mapVideoPath, parsePathMapping } from '../../../src-main/core/jobs/distributed/path-map.ts';
import { redactQueueUrl, parseQueueUrl } from '../../../src-main/core/jobs/distributed/connection.ts';

describe('worker path map', () => {
  const maps = [parsePathMapping('/data/videos=/mnt/lab/videos'), parsePathMapping('C:\\Lab\\clips=/mnt/clips'), parsePathMapping('/data/videos/special=/srv/special')];

  it('maps a path under FROM to the same file under TO (longest FROM first, Windows paths too)', () => {
    expect(mapVideoPath('/data/videos/mouse/a.mp4', maps)).toBe('/mnt/lab/videos/mouse/a.mp4');
    expect(mapVideoPath('/data/videos/special/b.mp4', maps)).toBe('/srv/special/b.mp4');
    expect(mapVideoPath('C:\\Lab\\clips\\day 1\\c.mov', maps)).toBe('/mnt/clips/day 1/c.mov');
  });

  it('never opens a path outside the map or one that climbs out of TO', () => {
    expect(() => mapVideoPath('/etc/passwd', maps)).toThrow(/\/etc\/passwd is outside every --path-map of this worker; start the worker with --path-map FROM=TO/);
    expect(() => mapVideoPath('/data/videos/../../etc/passwd', maps)).toThrow(/outside every --path-map/);
    expect(() => mapVideoPath('/data/videosX/a.mp4', maps)).toThrow(/outside every --path-map/);
  });

  it('says how a mapping is written', () => {
    expect(() => parsePathMapping('/data')).toThrow(/--path-map must look like FROM=TO/);
    expect(() => parsePathMapping('/data=relative/dir')).toThrow(/TO must be an absolute folder/);
  });
});

describe('queue URLs', () => {
  it('hides the password wherever a URL is shown, and accepts only redis:// and rediss://', () => {
    expect(redactQueueUrl('redis://stm:s3cret@host:6379')).toBe('redis://stm:***@host:6379');
    expect(redactQueueUrl('rediss://:s3cret@host:6380/2')).toBe('rediss://:***@host:6380/2');
    expect(redactQueueUrl('redis://host:6379')).toBe('redis://host:6379');
    expect(() => parseQueueUrl('http://host:6379')).toThrow(/must start with redis:\/\/ or rediss:\/\//);
    expect(() => parseQueueUrl('redis://:pw@')).toThrow(/not a queue URL|names no host/);
  });
});
