/** What the timeline draws: class lanes, prediction heat tracks and the filmstrip. */
/** A labelled range on a class lane. */
export interface LaneClip {
  id: number;
  startFrame: number;
  endFrame: number;
}
/** One class lane (one per class and subject when the video's clips name several subjects): its clips sorted by start frame. */
export interface Lane {
  /** Unique among the lanes: the class id, with the subject when lanes are split by subject. */
  key: string;
  classId: number;
  /** The subject whose clips this lane holds; null for a lane of clips without one (or when lanes are not split). */
  subject: string | null;
  name: string;
  color: string;
  hotkey: string | null;
  clips: LaneClip[];
}
/** Sliding-window probabilities of one class in one direction (opacity = probability). */
export interface HeatTrack {
  key: string;
  label: string;
  color: string;
  direction: 'forward' | 'reversed';
  /** The model's name when this row is a comparison model's (drawn under the primary's rows, dashed); null for the primary. */
  comparedModel: string | null;
  /** Window i covers [starts[i], ends[i]) with probability probs[i]; sorted by start. */
  starts: Int32Array;
  ends: Int32Array;
  probs: Float32Array;
  /** Segments after thresholds, drawn as a bar under the heat. */
  segments: Array<{ startFrame: number; endFrame: number }>;
}
/** A filmstrip sprite: `count` tiles in rows of `columns`, tile i showing frame `frames[i]`. */
export interface Filmstrip {
  url: string;
  columns: number;
  tileWidth: number;
  tileHeight: number;
  frames: number[];
}
