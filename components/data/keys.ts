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
};
