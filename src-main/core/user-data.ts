import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where STM Studio keeps per-user state shared by all projects (recent projects, the default project, the
 * app settings, downloaded pretrained weights): `$STM_STUDIO_HOME`, else `$XDG_DATA_HOME/stm-studio`
 * (`~/.local/share/stm-studio`).
 */
export function userDataDir(): string {
  if (process.env.STM_STUDIO_HOME) return process.env.STM_STUDIO_HOME;
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'stm-studio');
}
