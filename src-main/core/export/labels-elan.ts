/**
 * ELAN annotation files (.eaf, XML): time slots in milliseconds (`TIME_ORDER`), tiers of time-aligned
 * annotations (`ALIGNABLE_ANNOTATION` between two slots) and annotations that refer to another one
 * (`REF_ANNOTATION`, which takes its parent's times). Each annotation becomes a clip whose class is its value
 * (the tier's name when the value is empty) and whose subject is the tier's `PARTICIPANT`. The video is
 * `options.video`, else the first video `MEDIA_DESCRIPTOR`; its `TIME_ORIGIN` shifts every time.
 */
import { XMLParser } from 'fast-xml-parser';
import { UserError } from '../errors.ts';
import type { ForeignLabel, ReadContext, ReadResult } from './labels-common.ts';

type Attrs = Record<string, string | undefined>;
interface EafAnnotation {
  ALIGNABLE_ANNOTATION?: Attrs & { ANNOTATION_VALUE?: unknown };
  REF_ANNOTATION?: Attrs & { ANNOTATION_VALUE?: unknown };
}
type EafTier = Attrs & { ANNOTATION?: EafAnnotation[] };
interface EafDocument {
  HEADER?: { MEDIA_DESCRIPTOR?: Attrs[] };
  TIME_ORDER?: { TIME_SLOT?: Attrs[] };
  TIER?: EafTier[];
}

export function looksLikeElan(text: string): boolean {
  return /<ANNOTATION_DOCUMENT[\s>]/.test(text.slice(0, 4096));
}

export function readElan(ctx: ReadContext): ReadResult {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    isArray: (name) => ['MEDIA_DESCRIPTOR', 'TIME_SLOT', 'TIER', 'ANNOTATION'].includes(name),
  });
  let doc: EafDocument | undefined;
  try {
    doc = (parser.parse(ctx.text) as { ANNOTATION_DOCUMENT?: EafDocument }).ANNOTATION_DOCUMENT;
  } catch (err) {
    throw new UserError('invalid_input', `${ctx.file} is not valid XML (${(err as Error).message}); nothing was imported.`);
  }
  if (!doc) throw new UserError('invalid_input', `${ctx.file}: not an ELAN file (no ANNOTATION_DOCUMENT); nothing was imported.`);

  const media = (doc.HEADER?.MEDIA_DESCRIPTOR ?? []).find((m) => (m.MIME_TYPE ?? '').startsWith('video')) ?? doc.HEADER?.MEDIA_DESCRIPTOR?.[0];
  const video = ctx.options.video ?? mediaName(media);
  if (!video) throw new UserError('invalid_input', `${ctx.file}: names no media file; pass the project video with --video; nothing was imported.`);
  const originMs = Number(media?.TIME_ORIGIN ?? 0) || 0;

  const slots = new Map<string, number | null>();
  for (const slot of doc.TIME_ORDER?.TIME_SLOT ?? []) {
    slots.set(slot.TIME_SLOT_ID ?? '', slot.TIME_VALUE === undefined ? null : Number(slot.TIME_VALUE));
  }
  const tiers = doc.TIER ?? [];
  const wanted = ctx.options.tiers;
  const unknown = (wanted ?? []).filter((t) => !tiers.some((tier) => tier.TIER_ID === t));
  if (unknown.length > 0) {
    throw new UserError(
      'invalid_input',
      `${ctx.file}: no tier ${unknown.map((t) => `"${t}"`).join(', ')}; it has ${tiers.map((t) => `"${t.TIER_ID}"`).join(', ') || 'none'}; nothing was imported.`,
    );
  }
  // Times of every aligned annotation, so references can borrow them.
  const aligned = new Map<string, { start: number | null; end: number | null }>();
  const references = new Map<string, string>();
  for (const tier of tiers) {
    for (const a of tier.ANNOTATION ?? []) {
      const al = a.ALIGNABLE_ANNOTATION;
      if (al?.ANNOTATION_ID) aligned.set(al.ANNOTATION_ID, { start: slots.get(al.TIME_SLOT_REF1 ?? '') ?? null, end: slots.get(al.TIME_SLOT_REF2 ?? '') ?? null });
      const ref = a.REF_ANNOTATION;
      if (ref?.ANNOTATION_ID && ref.ANNOTATION_REF) references.set(ref.ANNOTATION_ID, ref.ANNOTATION_REF);
    }
  }
  const timesOf = (id: string): { start: number | null; end: number | null } | null => {
    let current = id;
    for (let hops = 0; hops < 100; hops++) {
      const times = aligned.get(current);
      if (times) return times;
      const parent = references.get(current);
      if (!parent) return null;
      current = parent;
    }
    return null;
  };

  const labels: ForeignLabel[] = [];
  for (const tier of tiers) {
    const tierId = tier.TIER_ID ?? '';
    if (wanted && !wanted.includes(tierId)) continue;
    for (const a of tier.ANNOTATION ?? []) {
      const item = a.ALIGNABLE_ANNOTATION ?? a.REF_ANNOTATION;
      if (!item) continue;
      const id = item.ANNOTATION_ID ?? '?';
      const where = `tier "${tierId}", annotation ${id}`;
      const times = timesOf(id);
      if (!times || times.start === null || times.end === null || Number.isNaN(times.start) || Number.isNaN(times.end)) {
        ctx.problems.add(where, 'has no time (an unaligned time slot); align it in ELAN, or choose the other tiers with --tier');
        continue;
      }
      const value = textOf(item.ANNOTATION_VALUE).trim();
      labels.push({
        where,
        video,
        label: value || tierId,
        start: { seconds: (times.start + originMs) / 1000 },
        end: { seconds: (times.end + originMs) / 1000 },
        point: times.start === times.end,
        subject: tier.PARTICIPANT?.trim() || null,
      });
    }
  }
  return { kind: 'ELAN (.eaf)', labels };
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && '#text' in value) return String((value as { '#text': unknown })['#text']);
  return '';
}

function mediaName(media: Attrs | undefined): string {
  const url = media?.MEDIA_URL || media?.RELATIVE_MEDIA_URL || '';
  if (!url) return '';
  try {
    return url.startsWith('file:') ? decodeURIComponent(new URL(url).pathname) : url.replace(/^\.\//, '');
  } catch {
    return url;
  }
}
