import { project } from './project.svelte.ts';
import { wb } from './workbench.svelte.ts';

/** True when a key press belongs to a text field or list box rather than to the workbench. */
function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return !['checkbox', 'radio', 'button', 'color'].includes(type);
  }
  return false;
}

/**
 * The Label view's keyboard: transport (←/→, Shift+←/→, Space, J/K/L), labeling (1–9 and class
 * hotkeys, I/O, Enter, Delete) and history (Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y). Returns whether it handled it.
 */
export function handleLabelKey(e: KeyboardEvent): boolean {
  if (wb.view !== 'label' || typingInto(e.target) || document.querySelector('dialog[open]')) return false;
  const pb = project.playback;
  const ctrl = e.ctrlKey || e.metaKey;
  const key = e.key;
  if (ctrl) {
    const k = key.toLowerCase();
    if (k === 'z' && !e.shiftKey) void project.undo();
    else if ((k === 'z' && e.shiftKey) || k === 'y') void project.redo();
    else return false;
    return true;
  }
  if (e.altKey) return false;
  // A focused button keeps Space and Enter for itself.
  const onButton = e.target instanceof HTMLButtonElement;
  switch (key) {
    case 'ArrowLeft':
      if (e.shiftKey) pb.stepSeconds(-1);
      else pb.step(-1);
      return true;
    case 'ArrowRight':
      if (e.shiftKey) pb.stepSeconds(1);
      else pb.step(1);
      return true;
    case ' ':
      if (onButton) return false;
      pb.togglePlay();
      return true;
    case 'Enter':
      if (onButton) return false;
      void project.createClip();
      return true;
    case 'Delete':
    case 'Backspace':
      if (project.selectedClipId === null) return false;
      void project.deleteClips([project.selectedClipId]);
      return true;
    case 'Escape':
      project.inFrame = null;
      project.outFrame = null;
      project.selectedClipId = null;
      return true;
  }
  if (e.shiftKey) return false;
  switch (key.toLowerCase()) {
    case 'i':
      project.markIn();
      return true;
    case 'o':
      project.markOut();
      return true;
    case 'j':
      pb.shuttle(-1);
      return true;
    case 'k':
      pb.pause();
      return true;
    case 'l':
      pb.shuttle(1);
      return true;
  }
  return project.pickClassByKey(key);
}
