import type { VideoListItem } from '../../../src-main/api/contract/media.ts';
import { api } from './api.ts';

/**
 * The file the player shows: the scrub proxy once it is ready (it seeks fast; same frames at the same
 * timestamps, so frame numbers and labels are unchanged), otherwise the video or its playback proxy.
 */
export function playerSource(video: Pick<VideoListItem, 'id' | 'scrub'>): string {
  return api.mediaUrl(video.scrub === 'ready' ? 'scrub' : 'video', video.id);
}
