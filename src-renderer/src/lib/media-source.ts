import type { VideoListItem } from '../../../src-main/api/contract/media.ts';
import { api } from './api.ts';

/**
 * The file the player shows: the scrub proxy once it is ready (it seeks fast; same frames at the same
 * timestamps, so frame numbers and labels are unchanged), otherwise the video or its playback proxy. The
 * playback proxy gets its own address, so the player loads it when it replaces an original that failed.
 */
export function playerSource(video: Pick<VideoListItem, 'id' | 'scrub' | 'playback'>): string {
  if (video.scrub === 'ready') return api.mediaUrl('scrub', video.id);
  const url = api.mediaUrl('video', video.id);
  return video.playback === 'proxy' ? `${url}${url.includes('?') ? '&' : '?'}copy=1` : url;
}
