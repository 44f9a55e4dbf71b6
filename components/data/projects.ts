"use client";

import { queryOptions, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "@/lib/api-client";
import type { Connection, Operation, Project, ProjectListItem, Role } from "@/lib/api-types";
import { isTransitional } from "@/lib/compute-states";
import { keys } from "./keys";

// Project data through the REST API, polled so that changes made elsewhere (the API, a proxy wake, the
// scheduler) show within seconds: every second while a compute is between states, every 3 s otherwise.

const FAST_MS = 1000;
const SLOW_MS = 3000;

export const projectsQuery = () =>
  queryOptions({
    queryKey: keys.projects(),
    queryFn: async () => (await api<{ projects: ProjectListItem[] }>("GET", "/api/v1/projects?limit=100")).projects,
    refetchInterval: (q) => (q.state.data?.some((p) => p.compute && isTransitional(p.compute.state)) ? FAST_MS : SLOW_MS * 2),
  });

export function useProjects(initialData?: ProjectListItem[]) {
  return useQuery({ ...projectsQuery(), initialData });
}

export const projectQuery = (id: string) =>
  queryOptions({
    queryKey: keys.project(id),
    queryFn: async () => (await api<{ project: Project }>("GET", `/api/v1/projects/${id}`)).project,
    refetchInterval: (q) => {
      const state = q.state.data?.compute?.state;
      return !q.state.data?.compute || (state && isTransitional(state)) ? FAST_MS : SLOW_MS;
    },
  });

export function useProject(id: string, initialData?: Project) {
  return useQuery({ ...projectQuery(id), initialData });
}

export const OPERATIONS_PAGE = 10;

export function useOperations(projectId: string, cursor: string | null, initialData?: { operations: Operation[]; nextCursor: string | null }) {
  return useQuery({
    queryKey: keys.operations(projectId, cursor),
    queryFn: () =>
      api<{ operations: Operation[]; nextCursor: string | null }>(
        "GET",
        `/api/v1/projects/${projectId}/operations?limit=${OPERATIONS_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      ),
    initialData: cursor === null ? initialData : undefined,
    refetchInterval: cursor === null ? SLOW_MS : false,
  });
}

export function useRoles(projectId: string, initialData?: Role[]) {
  return useQuery({
    queryKey: keys.roles(projectId),
    queryFn: async () => (await api<{ roles: Role[] }>("GET", `/api/v1/projects/${projectId}/roles`)).roles,
    initialData,
  });
}

/** Connection details with the password, while it is shown; null otherwise. In memory only, never stored. */
export function useSecret(projectId: string) {
  return useQuery<Connection | null>({
    queryKey: keys.secret(projectId),
    queryFn: () => null,
    enabled: false,
    staleTime: Infinity,
    gcTime: 10 * 60_000,
  });
}

export type Creation = { status: "pending" } | { status: "failed"; message: string };

export function useCreation(projectId: string) {
  return useQuery<Creation | null>({ queryKey: keys.creation(projectId), queryFn: () => null, enabled: false, staleTime: Infinity });
}

export function useInvalidateProject(projectId: string) {
  const client = useQueryClient();
  return () =>
    Promise.all([
      client.invalidateQueries({ queryKey: keys.project(projectId) }),
      client.invalidateQueries({ queryKey: keys.operationsAll(projectId) }),
      client.invalidateQueries({ queryKey: keys.projects(), exact: true }),
    ]);
}
