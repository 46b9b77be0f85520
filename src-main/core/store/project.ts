// Placeholder until the project store lands: a project is a folder; the store issue fills this in.
export interface Project {
  readonly dir: string;
  close(): void;
}

export function openProject(dir: string, _opts: { create?: boolean } = {}): Project {
  return { dir, close() {} };
}

export function sqliteVersion(): string {
  return 'unknown';
}
