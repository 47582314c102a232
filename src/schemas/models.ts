import { z } from '@hono/zod-openapi';
import { MODEL_RUN_STATUSES } from '../db/schema';

export const ModelIdParams = z.object({
  modelId: z.uuid('must be a UUID').openapi({ param: { name: 'modelId', in: 'path' }, example: '0f8fad5b-d9cb-469f-a165-70867728950e' }),
});

export const ModelSummarySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    sport: z.string().openapi({ description: 'The sport whose matches the run prices (a sport key, as GET /sports lists it); each sport has at most one active run', example: 'soccer' }),
    status: z.enum(MODEL_RUN_STATUSES),
    featureVersion: z.string(),
    artifactSha256: z.string(),
    trainedFrom: z.string().nullable(),
    trainedTo: z.string().nullable(),
    createdAt: z.string().datetime(),
    activatedAt: z.string().datetime().nullable(),
    retiredAt: z.string().datetime().nullable(),
    activationForced: z.boolean(),
    activationReason: z.string().nullable().openapi({ description: "The admin's note when a run was activated despite the gate; admins only (null for everyone else)" }),
  })
  .openapi('ModelSummary');

export const ModelSchema = ModelSummarySchema.extend({
  metadata: z.record(z.string(), z.unknown()).openapi({ description: "The bundle's bundle.json: windows, hyper-parameters, calibration, file hashes" }),
}).openapi('Model');

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * The activation reason is an admin's free-text note (it can name incidents, tickets or people), so only
 * admins see it; everyone else sees null, as for a run activated without one.
 */
export function withReasonFor<T extends { activationReason: string | null }>(json: T, viewerRole: string | undefined): T {
  return viewerRole === 'admin' ? json : { ...json, activationReason: null };
}

export function toModelSummaryJson(m: {
  id: string;
  name: string;
  sport: string;
  status: (typeof MODEL_RUN_STATUSES)[number];
  featureVersion: string;
  artifactSha256: string;
  trainedFrom: string | null;
  trainedTo: string | null;
  createdAt: Date;
  activatedAt: Date | null;
  retiredAt: Date | null;
  activationForced: boolean;
  activationReason: string | null;
}) {
  return {
    id: m.id,
    name: m.name,
    sport: m.sport,
    status: m.status,
    featureVersion: m.featureVersion,
    artifactSha256: m.artifactSha256,
    trainedFrom: m.trainedFrom,
    trainedTo: m.trainedTo,
    createdAt: m.createdAt.toISOString(),
    activatedAt: iso(m.activatedAt),
    retiredAt: iso(m.retiredAt),
    activationForced: m.activationForced,
    activationReason: m.activationReason,
  };
}

export const EvaluationSchema = z
  .object({
    id: z.number().int(),
    split: z.string(),
    matchCount: z.number().int(),
    metrics: z.record(z.string(), z.unknown()),
    baselineMetrics: z.record(z.string(), z.unknown()).nullable(),
    createdAt: z.string().datetime(),
  })
  .openapi('ModelEvaluation');

export const BacktestSchema = z
  .object({
    id: z.number().int(),
    strategy: z.string(),
    params: z.record(z.string(), z.unknown()),
    metrics: z.record(z.string(), z.unknown()).openapi({ description: 'bets, staked, profit, ROI, max drawdown, CLV and the equity curve' }),
    createdAt: z.string().datetime(),
  })
  .openapi('Backtest');
