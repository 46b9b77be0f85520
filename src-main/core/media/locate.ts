// Placeholder until the media engine lands.
export interface ToolLocation {
  path: string | null;
  version: string | null;
  /** Which rung of the fallback ladder found it: env, setting, ffmpeg-static, @ffmpeg-installer, PATH. */
  source: string | null;
  reason?: string;
}

export async function locateFfmpegTools(): Promise<{ ffmpeg: ToolLocation; ffprobe: ToolLocation }> {
  const none: ToolLocation = { path: null, version: null, source: null, reason: 'not checked yet' };
  return { ffmpeg: none, ffprobe: none };
}
