/**
 * The project schema as an ordered list of migrations. Migration N brings a file from user_version N-1 to N;
 * each runs in its own transaction together with the user_version bump, so a crash leaves the old version.
 */

/** `PRAGMA application_id` of every project file ("STMS"), so another app's SQLite file is never taken for ours. */
export const APPLICATION_ID = 0x53544d53;

const migration1 = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE videos (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  path           TEXT NOT NULL UNIQUE,          -- absolute path
  name           TEXT NOT NULL,                 -- file name shown to the user, matched by imports
  fingerprint    TEXT,                          -- content hash, finds a moved file again
  size_bytes     INTEGER,
  duration_s     REAL,
  frame_count    INTEGER,
  fps            REAL,                          -- declared rate, informative only
  width          INTEGER,
  height         INTEGER,
  display_width  INTEGER,
  display_height INTEGER,
  rotation       INTEGER NOT NULL DEFAULT 0,
  codec          TEXT,
  has_audio      INTEGER NOT NULL DEFAULT 0,
  frame_pts      BLOB,                          -- Float64 seconds, one per decoded frame
  proxy_path     TEXT,
  status         TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'missing')),
  added_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX videos_fingerprint ON videos(fingerprint);
CREATE INDEX videos_name ON videos(name);

CREATE TABLE classes (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
  color       TEXT NOT NULL,
  hotkey      TEXT,
  reverse_of  INTEGER REFERENCES classes(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
  flip_safe   INTEGER NOT NULL DEFAULT 1,       -- horizontal flip keeps the class (training augmentation)
  archived    INTEGER NOT NULL DEFAULT 0,
  merged_into INTEGER REFERENCES classes(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
  sort_order  INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX classes_active_name ON classes(name COLLATE NOCASE) WHERE archived = 0;

CREATE TABLE clips (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  video_id    INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  class_id    INTEGER NOT NULL REFERENCES classes(id) DEFERRABLE INITIALLY DEFERRED,
  start_frame INTEGER NOT NULL CHECK (start_frame >= 0),          -- inclusive
  end_frame   INTEGER NOT NULL CHECK (end_frame > start_frame),   -- exclusive
  split       TEXT CHECK (split IS NULL OR split IN ('train', 'val')),
  source      TEXT NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'imported', 'prediction')),
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX clips_video_start ON clips(video_id, start_frame);
CREATE INDEX clips_class ON clips(class_id);

CREATE TABLE models (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  name            TEXT NOT NULL,
  arch            TEXT NOT NULL,                -- JSON
  classes         TEXT NOT NULL,                -- JSON array of class names, in output order
  weights_path    TEXT,                         -- relative to the project folder (models/...)
  parent_model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
  metrics         TEXT,                         -- JSON
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE jobs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  kind        TEXT NOT NULL CHECK (kind IN ('train', 'predict', 'probe')),
  params      TEXT NOT NULL,                    -- JSON
  status      TEXT NOT NULL DEFAULT 'queued'
              CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
  progress    TEXT,                             -- JSON
  error       TEXT,
  log         TEXT NOT NULL DEFAULT '',
  model_id    INTEGER REFERENCES models(id) ON DELETE SET NULL,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  started_at  TEXT,
  finished_at TEXT
);
CREATE INDEX jobs_status ON jobs(status);

CREATE TABLE predictions (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id        INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  model_id      INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  video_id      INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  window_index  INTEGER NOT NULL,
  start_frame   INTEGER NOT NULL,
  end_frame     INTEGER NOT NULL,
  direction     TEXT NOT NULL CHECK (direction IN ('forward', 'reversed')),
  probabilities BLOB NOT NULL,                  -- Float32, one per model class
  UNIQUE (job_id, video_id, direction, window_index)
);
CREATE INDEX predictions_video_model ON predictions(video_id, model_id, direction, window_index);

CREATE TABLE training_metrics (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  model_id   INTEGER REFERENCES models(id) ON DELETE CASCADE,
  epoch      INTEGER NOT NULL,
  step       INTEGER NOT NULL,
  split      TEXT NOT NULL CHECK (split IN ('train', 'val')),
  loss       REAL,
  top1       REAL,
  per_class  TEXT,                              -- JSON
  confusion  TEXT,                              -- JSON
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX training_metrics_job ON training_metrics(job_id, step);

CREATE TABLE probe_results (
  id                     INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id                 INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  model_id               INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  clip_id                INTEGER REFERENCES clips(id) ON DELETE SET NULL,
  video_id               INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  class_id               INTEGER REFERENCES classes(id),
  start_frame            INTEGER NOT NULL,
  end_frame              INTEGER NOT NULL,
  forward_top1           TEXT NOT NULL,
  forward_score          REAL NOT NULL,
  reversed_top1          TEXT NOT NULL,
  reversed_score         REAL NOT NULL,
  expected_reversed      TEXT,
  flipped                INTEGER NOT NULL,
  js_divergence          REAL NOT NULL,
  forward_probabilities  BLOB,                  -- Float32, one per model class
  reversed_probabilities BLOB
);
CREATE INDEX probe_results_job ON probe_results(job_id);

-- Undo/redo: one row per edit with the before/after image of every row it touched (JSON).
CREATE TABLE edit_log (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  label      TEXT NOT NULL,
  changes    TEXT NOT NULL,
  undone     INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX edit_log_undone ON edit_log(undone, id);
`;

/** Review rejections kept with the project, and the training loss/accuracy curve within each epoch. */
const migration2 = `
-- A window the reviewer said "no" to: the model's call on those frames stays out of the review queue.
CREATE TABLE review_rejections (
  model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  video_id    INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
  start_frame INTEGER NOT NULL,
  end_frame   INTEGER NOT NULL,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (model_id, video_id, start_frame, end_frame)
);

-- Running training figures inside an epoch (mean over the steps since the previous point).
CREATE TABLE training_steps (
  job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  epoch      INTEGER NOT NULL,
  step       INTEGER NOT NULL,                  -- batches done in this epoch
  steps      INTEGER NOT NULL,                  -- batches per epoch
  loss       REAL NOT NULL,
  top1       REAL NOT NULL,
  PRIMARY KEY (job_id, epoch, step)
);
`;

/** A clip may name who does the action (an animal, a person, a track id): one lane per subject on the timeline. */
const migration3 = `
ALTER TABLE clips ADD COLUMN subject TEXT CHECK (subject IS NULL OR length(trim(subject)) > 0);
`;

/** Who made each edit (the app's windows or the command line), so undo reverts one's own edits only. */
const migration4 = `
ALTER TABLE edit_log ADD COLUMN origin TEXT NOT NULL DEFAULT 'app';
CREATE INDEX edit_log_origin ON edit_log(origin, undone, id);
`;

export const MIGRATIONS: readonly string[] = [migration1, migration2, migration3, migration4];
export const SCHEMA_VERSION = MIGRATIONS.length;
