/** Names only, for the sandboxed preload and the web client (no zod, no core imports). */
export { requestNames, eventNames } from './contract.ts';
