// One query-key factory for the console's data; mutations invalidate by these keys.
export const keys = {
  projects: () => ["projects"] as const,
  project: (id: string) => ["projects", id] as const,
  operations: (projectId: string, cursor: string | null) => ["projects", projectId, "operations", cursor] as const,
  operationsAll: (projectId: string) => ["projects", projectId, "operations"] as const,
  roles: (projectId: string) => ["projects", projectId, "roles"] as const,
  /** Connection details with a password, kept in memory only while it is shown (after creation or a reset). */
  secret: (projectId: string) => ["secret", projectId] as const,
  /** A compute being created for a project right after "Create project". */
  creation: (projectId: string) => ["creation", projectId] as const,
  apiKeys: () => ["api-keys"] as const,
  organizations: () => ["organizations"] as const,
  /** Members, invitations, the audit log and billing are of one organization (the one the page shows). */
  members: (organizationId: string) => ["organizations", organizationId, "members"] as const,
  invitations: (organizationId: string) => ["organizations", organizationId, "invitations"] as const,
  auditLog: (organizationId: string, cursor: string | null) => ["organizations", organizationId, "audit-log", cursor] as const,
  auditLogAll: (organizationId: string) => ["organizations", organizationId, "audit-log"] as const,
  billing: (organizationId: string) => ["organizations", organizationId, "billing"] as const,
};
