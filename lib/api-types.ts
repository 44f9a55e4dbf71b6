import type { ComputeStateName } from "./compute-states";

// The REST API's reply shapes (DESIGN.md) as the console reads them. Dates are ISO strings.

export interface AccessRules {
  requireTls: boolean;
  allowedCidrs: string[];
}

export interface Compute {
  id: string;
  projectId: string;
  state: ComputeStateName;
  size: number;
  suspendTimeoutSeconds: number;
  coldAfterSeconds: number;
  endpoint: { host: string; port: number } | null;
  activeConnections: number;
  lastActiveAt: string | null;
  stateChangedAt: string;
  failureReason: string | null;
  createdAt: string;
  storage?: { usedBytes: number | null; limitBytes: number };
}

export interface Project {
  id: string;
  slug: string;
  name: string;
  organizationId: string;
  createdAt: string;
  access: AccessRules;
  compute: Compute | null;
}

export interface ProjectListItem {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
  compute: { id: string; state: ComputeStateName } | null;
}

export interface Connection {
  host: string;
  port: number;
  user: string;
  password: string | null;
  database: string;
  uri: string;
}

export interface Operation {
  id: string;
  kind: string;
  status: string;
  computeId: string | null;
  reason: string | null;
  actor: string;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface Role {
  id: string;
  name: string;
  createdAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}
