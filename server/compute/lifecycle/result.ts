import type { Compute } from "../../db";

/** What the resume and suspend verbs answer (the API shapes it: 200, or 202 while `pending`). */
export interface LifecycleResult {
  compute: Compute;
  operationId: string | null;
  /** The transition is still under way (the API answers 202). */
  pending: boolean;
}
