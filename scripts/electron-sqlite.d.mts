export function electronSqlitePath(electronVersion: string): string;
export function fetchElectronSqlite(electronVersion: string, target?: string, env?: NodeJS.ProcessEnv): Promise<boolean>;
