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
  /** Whether idle client sessions are parked (they then keep the compute awake no longer). */
  parkIdleSessions: boolean;
  /** Idle seconds before a session parks; null: the suspend timeout. */
  parkAfterSeconds: number | null;
  /** Whether the proxies multiplex client sessions over a few server connections (issue 15). */
  poolConnections: boolean;
  endpoint: { host: string; port: number } | null;
  activeConnections: number;
  sessions: ComputeSessions;
  pooling: ComputePooling;
  lastActiveAt: string | null;
  stateChangedAt: string;
  failureReason: string | null;
  createdAt: string;
  storage?: { usedBytes: number | null; limitBytes: number };
}

/** A compute's client sessions through live proxies: activeConnections = active + pinned. */
export interface ComputeSessions {
  active: number;
  parked: number;
  pinned: number;
  /** Why pinned sessions cannot park, most sessions first; idleSeconds: the longest-idle of them. */
  pins: { reason: string; sessions: number; idleSeconds: number }[];
}

/**
 * The compute's connection pool, summed over live proxies: client sessions (attached and parked), the
 * server connections carrying a command or transaction (inUse) and idle against their limit, and the
 * clients waiting for one; averageWaitMs and timeouts cover the waits ended since the proxies started.
 */
export interface ComputePooling {
  enabled: boolean;
  clientSessions: number;
  serverConnections: { inUse: number; idle: number; limit: number };
  queue: { waiting: number; longestWaitMs: number; averageWaitMs: number; timeouts: number };
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
  /** The key acts with this role (capped by its creator's current one). */
  role: MemberRoleName;
  createdById: string | null;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export type MemberRoleName = "owner" | "admin" | "member" | "viewer";

export interface Organization {
  id: string;
  slug: string;
  name: string;
  plan: string;
  role: MemberRoleName;
  current: boolean;
  createdAt: string;
}

export interface Member {
  id: string;
  userId: string;
  email: string;
  name: string | null;
  role: MemberRoleName;
  createdAt: string;
  you: boolean;
}

export interface Invitation {
  id: string;
  email: string;
  role: MemberRoleName;
  status: "pending" | "expired" | "accepted" | "revoked";
  expiresAt: string;
  createdAt: string;
  invitedBy: { id: string; email: string } | null;
}

export interface AuditEvent {
  id: string;
  action: string;
  actor: string;
  actorEmail: string | null;
  targetType: string;
  targetId: string | null;
  targetLabel: string | null;
  details: Record<string, unknown> | null;
  createdAt: string;
}

export interface Billing {
  organizationId: string;
  plan: string;
  limits: { cuHoursPerMonth: number | null; storageBytesPerCompute: number };
  usage: { cuHoursThisMonth: number };
}

/** The monthly spend cap in the billing reply (`billing.spendCap`) and the console's banner. */
export interface SpendCap {
  capUsd: number | null;
  spentUsd: number;
  share: number | null;
  threshold: 80 | 100 | null;
  month: string;
}

/** The spend fields of the billing reply (GET /api/v1/billing), beside `Billing`'s. */
export interface BillingSpend {
  spendToDateUsd: number;
  estimateUsd: number;
  spendCap: SpendCap;
}

export interface InvoiceLine {
  kind: "base" | "compute" | "storage" | "transfer";
  description: string;
  quantity: number;
  unit: string;
  includedQuantity: number;
  billedQuantity: number;
  unitPriceUsd: number;
  amountUsd: number;
}

/** GET /api/v1/invoices and /api/v1/invoices/{id}: a final invoice, or the current month's estimate ("current"). */
export interface Invoice {
  id: string;
  organizationId: string;
  organizationName: string;
  month: string;
  status: "final" | "estimate";
  plan: string;
  lineItems: InvoiceLine[];
  usage: { cuHours: number; storageGbMonths: number; transferGb: number };
  totalUsd: number;
  finalizedAt: string | null;
  projectedTotalUsd?: number;
}
