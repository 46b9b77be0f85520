// Worker threads start here: tsx lets the worker import the TypeScript sources directly (as bin/stm-studio.mjs does).
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
