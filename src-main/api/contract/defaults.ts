/**
 * Job defaults for clients that show them before a user changes anything (the Train form): the same values
 * the contract fills in for omitted params. No zod here, so the renderer can import it.
 */
export {
  DEFAULT_TRAIN_PARAMS as trainDefaults,
  DEFAULT_PREDICT_PARAMS as predictDefaults,
  DEFAULT_PROBE_PARAMS as probeDefaults,
} from '../../core/jobs/params.ts';
