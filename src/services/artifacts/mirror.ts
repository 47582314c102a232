// The R2 ↔ S3 mirror of model bundles (models/<id>/…, written to R2 by model:register) and feature exports
// (features/…, written to S3 by features:export). Both sides are reached through their S3 APIs.
//
// Per key under each prefix, over the union of both sides:
// - both sides record the same sha256 (x-amz-meta-sha256) and size: in sync, nothing is read;
// - otherwise the bytes are read and hashed. A side whose bytes do not match its own recorded sha256 is
//   corrupt: it is never copied from, and it is overwritten from the other side when that one is sound;
// - same bytes, a side without a recorded sha256 (an upload that did not set one): the hash is recorded in
//   place, so the next run compares metadata only;
// - one side only, or different sound bytes: the newer object (LastModified) is copied over the older one,
//   with its sha256 in the metadata, and the copy is read back and checked before it counts (a source
//   without a recorded sha256 gets it recorded too).
// A second run therefore copies nothing. Deletions are not mirrored: the mirror only adds and repairs, so a
// key deleted on one side comes back from the other (delete on both sides to remove an artifact).
// `verifyContent` reads and hashes every object even when the metadata agree: the scrub that finds bytes
// that rotted at rest behind correct metadata.
import { sha256Hex, type ObjectHead, type ObjectStore } from './object-store';

/** Model bundles (the R2 key layout of scripts/lib/models/bundle-files.ts) and the lake's feature exports. */
export const DEFAULT_MIRROR_PREFIXES = ['models/', 'features/'] as const;

export interface MirrorOptions {
  prefixes?: readonly string[];
  verifyContent?: boolean;
}

export interface MirrorProblem {
  key: string;
  /** corrupt: no side has bytes matching their recorded sha256; failed: a copy or a read failed. */
  kind: 'corrupt' | 'failed';
  detail: string;
}

export interface MirrorReport {
  /** Keys copied from side A to side B (e.g. r2 → s3), and back. */
  copied: Record<string, string[]>;
  /** Keys whose corrupt copy on the named side was replaced from the other side. */
  repaired: Record<string, string[]>;
  /** Keys whose sha256 was recorded in place on the named side (same bytes, no metadata before). */
  recorded: Record<string, string[]>;
  unchanged: number;
  bytesCopied: number;
  problems: MirrorProblem[];
}

interface Side {
  store: ObjectStore;
  head: ObjectHead | null;
  bytes?: Uint8Array;
  actual?: string;
}

const sound = (s: Side) => s.head !== null && s.actual !== undefined && (s.head.sha256 === undefined || s.head.sha256 === s.actual);

export async function mirrorArtifacts(a: ObjectStore, b: ObjectStore, options: MirrorOptions = {}): Promise<MirrorReport> {
  const report: MirrorReport = {
    copied: { [`${a.name}->${b.name}`]: [], [`${b.name}->${a.name}`]: [] },
    repaired: { [a.name]: [], [b.name]: [] },
    recorded: { [a.name]: [], [b.name]: [] },
    unchanged: 0,
    bytesCopied: 0,
    problems: [],
  };
  for (const prefix of options.prefixes ?? DEFAULT_MIRROR_PREFIXES) {
    const [listA, listB] = await Promise.all([a.list(prefix), b.list(prefix)]);
    const keys = [...new Set([...listA.map((o) => o.key), ...listB.map((o) => o.key)])].sort();
    for (const key of keys) {
      try {
        await mirrorKey(key, a, b, options.verifyContent ?? false, report);
      } catch (error) {
        report.problems.push({ key, kind: 'failed', detail: (error as Error).message });
      }
    }
  }
  return report;
}

async function mirrorKey(key: string, a: ObjectStore, b: ObjectStore, verifyContent: boolean, report: MirrorReport): Promise<void> {
  const [headA, headB] = await Promise.all([a.head(key), b.head(key)]);
  const sideA: Side = { store: a, head: headA };
  const sideB: Side = { store: b, head: headB };
  if (!verifyContent && headA?.sha256 && headA.sha256 === headB?.sha256 && headA.size === headB.size) {
    report.unchanged += 1;
    return;
  }
  for (const side of [sideA, sideB]) {
    if (!side.head) continue;
    const got = await side.store.get(key);
    side.bytes = got.bytes;
    side.actual = await sha256Hex(got.bytes);
  }
  const soundA = sound(sideA);
  const soundB = sound(sideB);
  if (!soundA && !soundB) {
    const detail = [sideA, sideB]
      .filter((s) => s.head)
      .map((s) => `${s.store.name} holds sha256 ${s.actual}, recorded ${s.head!.sha256}`)
      .join('; ');
    report.problems.push({ key, kind: 'corrupt', detail: `no sound copy: ${detail}` });
    return;
  }
  if (soundA && soundB && sideA.actual === sideB.actual) {
    for (const side of [sideA, sideB]) {
      if (side.head!.sha256 === undefined) {
        await side.store.recordSha256(key, side.actual!, side.head!.contentType);
        report.recorded[side.store.name]!.push(key);
      }
    }
    if (!report.recorded[a.name]!.includes(key) && !report.recorded[b.name]!.includes(key)) report.unchanged += 1;
    return;
  }
  // One side wins: the only sound one, or the newer of two sound ones with different bytes.
  const [from, to] = !soundB ? [sideA, sideB] : !soundA ? [sideB, sideA] : sideA.head!.lastModified >= sideB.head!.lastModified ? [sideA, sideB] : [sideB, sideA];
  const corruptTarget = to.head !== null && to.actual !== undefined && !sound(to);
  await to.store.putVerified(key, from.bytes!, { contentType: from.head!.contentType });
  report.bytesCopied += from.bytes!.byteLength;
  if (corruptTarget) report.repaired[to.store.name]!.push(key);
  else report.copied[`${from.store.name}->${to.store.name}`]!.push(key);
  if (from.head!.sha256 === undefined) {
    await from.store.recordSha256(key, from.actual!, from.head!.contentType);
    report.recorded[from.store.name]!.push(key);
  }
}

/** A short summary for logs and the job's stats. */
export function summarizeMirror(report: MirrorReport): Record<string, unknown> {
  const count = (m: Record<string, string[]>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.length]));
  return {
    copied: count(report.copied),
    repaired: count(report.repaired),
    recorded: count(report.recorded),
    unchanged: report.unchanged,
    bytesCopied: report.bytesCopied,
    problems: report.problems,
  };
}
