// Worker threads start from plain JavaScript: register tsx, then load the TypeScript job worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
