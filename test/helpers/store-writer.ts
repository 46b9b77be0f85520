/**
 * A separate process that edits a project: `tsx store-writer.ts <dir> <videoId> <classId> <count> <tag>`.
 * Adds `count` clips one edit at a time (alternating with a resize every 5th edit) and prints
 * `ack <clipId> <endFrame>` after each commit, so a parent can kill it at any moment and check that every
 * acknowledged edit survived. `count` 0 means run until killed.
 */
import { openProject } from '../../src-main/core/store/project.ts';

const [dir, videoArg, classArg, countArg] = process.argv.slice(2);
const project = openProject(dir!);
const videoId = Number(videoArg);
const classId = Number(classArg);
const count = Number(countArg);

for (let i = 0; count === 0 || i < count; i++) {
  const start = i % 1000;
  const clip = project.clips.create({ videoId, classId, startFrame: start, endFrame: start + 5 });
  let end = clip.endFrame;
  if (i % 5 === 4) end = project.clips.update(clip.id, { endFrame: start + 7 }).endFrame;
  process.stdout.write(`ack ${clip.id} ${end}\n`);
}
project.close();
