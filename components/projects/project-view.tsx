"use client";

import Link from "next/link";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, errorMessage } from "@/lib/api-client";
import type { Connection, Operation, Project, Role } from "@/lib/api-types";
import type { ConnectionInfo } from "@/lib/connection-snippets";
import { ComputePanel } from "../compute/compute-panel";
import { ComputeUsagePanel } from "../compute/compute-usage-panel";
import { StateBadge } from "../compute/state-badge";
import { keys } from "../data/keys";
import { useCreation, useInvalidateProject, useOperations, useProject } from "../data/projects";
import { useCan } from "../organizations/role-context";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { PageHeader } from "../ui/page-header";
import { Spinner } from "../ui/spinner";
import { ErrorState } from "../ui/states";
import { useToast } from "../ui/toast";
import { ConnectionPanel } from "./connection-panel";
import { DeleteProject } from "./delete-project";
import { OperationsPanel } from "./operations-panel";
import { RolesPanel } from "./roles-panel";
import { SettingsPanel } from "./settings-panel";

export interface ProjectViewProps {
  initial: Project;
  operations: { operations: Operation[]; nextCursor: string | null };
  roles: Role[];
  /** Host, port, user and database of the default role (no password). */
  connection: Omit<ConnectionInfo, "password">;
  defaultRole: string;
  minSuspendSeconds: number;
  userId: string;
}

/** A project page: its compute, live; how to connect; roles; operations; settings; delete. */
export function ProjectView({ initial, operations, roles, connection, defaultRole, minSuspendSeconds, userId }: ProjectViewProps) {
  const { data: project, error, refetch } = useProject(initial.id, initial);
  const { data: ops } = useOperations(initial.id, null, operations);
  const { data: creation } = useCreation(initial.id);
  const canWrite = useCan("projects.write");
  if (!project) return null;
  return (
    <>
      <p className="mb-2 text-sm">
        <Link href="/projects" className="text-indigo-700 hover:underline">
          ← Projects
        </Link>
      </p>
      <PageHeader
        title={project.name}
        description={
          <span className="font-mono" data-testid="project-slug">
            {project.slug}
          </span>
        }
        actions={<StateBadge state={project.compute?.state ?? null} />}
      />
      {error ? (
        <div className="mb-4">
          <ErrorState message={`Could not refresh this project: ${errorMessage(error)}. What you see may be out of date.`} onRetry={() => void refetch()} />
        </div>
      ) : null}
      <div className="space-y-6">
        {project.compute ? (
          <ComputePanel compute={project.compute} operations={ops?.operations ?? []} userId={userId} />
        ) : (
          <NoCompute projectId={project.id} pending={creation?.status === "pending"} failure={creation?.status === "failed" ? creation.message : null} />
        )}
        <ConnectionPanel projectId={project.id} role={defaultRole} base={connection} />
        {project.compute ? <ComputeUsagePanel computeId={project.compute.id} /> : null}
        <RolesPanel projectId={project.id} initial={roles} slug={project.slug} />
        <OperationsPanel projectId={project.id} initial={operations} userId={userId} />
        <SettingsPanel projectId={project.id} compute={project.compute} access={project.access} minSeconds={minSuspendSeconds} />
        {canWrite ? <DeleteProject projectId={project.id} name={project.name} /> : null}
      </div>
    </>
  );
}

/** A project without a compute: being created right now (progress), or one to create (after a failure). */
function NoCompute({ projectId, pending, failure }: { projectId: string; pending: boolean; failure: string | null }) {
  const client = useQueryClient();
  const toast = useToast();
  const invalidate = useInvalidateProject(projectId);
  const canWrite = useCan("projects.write");
  const create = useMutation({
    mutationFn: () => api<{ connection: Connection }>("POST", `/api/v1/projects/${projectId}/compute`),
    onSuccess: ({ connection }) => {
      client.setQueryData(keys.secret(projectId), connection);
      client.setQueryData(keys.creation(projectId), null);
      toast("Compute created", { description: "It is running." });
    },
    onError: (e) => toast("The compute could not be created", { description: errorMessage(e), tone: "error" }),
    onSettled: () => invalidate(),
  });
  if (pending || create.isPending) {
    return (
      <Card id="compute" title="Compute">
        <div className="flex items-center gap-3" role="status">
          <Spinner className="text-indigo-600" />
          <StateBadge state="provisioning" />
          <p className="text-sm text-slate-700">Creating the compute and starting MariaDB. This takes a few seconds.</p>
        </div>
      </Card>
    );
  }
  return (
    <Card id="compute" title="Compute">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <p className="text-sm text-slate-700">
          {failure ? `The compute could not be created: ${failure}` : "This project has no compute yet. Create one to connect."}
        </p>
        {canWrite ? (
          <Button onClick={() => create.mutate()} loading={create.isPending}>
            Create compute
          </Button>
        ) : null}
      </div>
    </Card>
  );
}
