import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { ProjectUpdateSchema } from "@/lib/schemas";
import { presentProject } from "@/app/_lib/present-project";
import { deleteProject, getProject, updateProject } from "@/server/projects/projects";

const present = async (project: Awaited<ReturnType<typeof getProject>>) => ({ project: await presentProject(project) });

// GET /api/v1/projects/{id} - one project with its compute
export const GET = withCaller<{ id: string }>(async ({ params, caller }) => {
  return json(await present(await getProject({ organizationIds: caller.organizationIds, projectId: params.id })));
});

// PATCH /api/v1/projects/{id} - rename a project, change its access rules (require TLS, allowed IP ranges)
export const PATCH = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  const input = await readBody(req, ProjectUpdateSchema);
  return json(await present(await updateProject({ caller, projectId: params.id, ...input })));
});

// DELETE /api/v1/projects/{id} - delete a project, its compute (and data) and roles
export const DELETE = withCaller<{ id: string }>(async ({ params, caller }) => {
  await deleteProject({ caller, projectId: params.id });
  return json({ project: { id: params.id }, deleted: true });
});
