import type { ZodType } from 'zod';

/** A JSON response entry for a route's `responses`. */
export const json = <T extends ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
