import { notFound } from "next/navigation";
import { asJson, consoleCaller, isNotFound } from "@/app/_lib/console";
import { presentProject } from "@/app/_lib/present-project";
import { RoleProvider } from "@/components/organizations/role-context";
import { ProjectView, type ProjectViewProps } from "@/components/projects/project-view";
import { DEFAULT_DATABASE, DEFAULT_ROLE } from "@/lib/compute-states";
import { config } from "@/server/config";
import { connectionDetails } from "@/server/compute/connection-details";
import { listOperations } from "@/server/operations/operations";
import { getProject } from "@/server/projects/projects";
import { listRoles } from "@/server/roles/roles";

export const metadata = { title: "Project · MariaDB Serverless" };

// Read through server/ with the caller's organizations, as the REST API does: another tenant's project is
// the same 404 as a missing one.
export default async function ProjectPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const caller = await consoleCaller();
  const scope = { organizationIds: caller.organizationIds, projectId: id };
  let project;
  try {
    project = await getProject(scope);
  } catch (error) {
    if (isNotFound(error)) notFound();
    throw error;
  }
  const [presented, operations, roles] = await Promise.all([
    presentProject(project),
    listOperations({ ...scope, pagination: { limit: 10 } }),
    listRoles(scope),
  ]);
  const { host, port, user, database } = connectionDetails({ projectSlug: project.slug, role: DEFAULT_ROLE, password: null, database: DEFAULT_DATABASE });
  const props: ProjectViewProps = {
    initial: asJson(presented),
    operations: asJson(operations),
    roles: asJson(roles),
    connection: { host, port, user, database },
    defaultRole: DEFAULT_ROLE,
    minSuspendSeconds: config().MIN_SUSPEND_TIMEOUT_SECONDS,
    userId: caller.userId ?? "",
  };
  // The caller's role in the organization that owns the project (not necessarily the current one).
  return (
    <RoleProvider role={caller.roles[project.organizationId] ?? "viewer"}>
      <ProjectView {...props} />
    </RoleProvider>
  );
}
