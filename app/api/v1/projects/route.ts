import { json, readBody, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { IdSchema, PaginationSchema, ProjectCreateSchema } from "@/lib/schemas";
import { createProject, listProjects } from "@/server/projects/projects";
import { actingOrganization } from "@/server/tenancy/caller";

// POST /api/v1/projects - create a project
export const POST = withCaller(async ({ req, caller }) => {
  const input = await readBody(req, ProjectCreateSchema);
  const organizationId = actingOrganization(caller, input.organizationId);
  const project = await createProject({ organizationId, name: input.name, slug: input.slug });
  return json({ project }, 201);
});

const ListSchema = PaginationSchema.extend({ organizationId: IdSchema.optional() });

// GET /api/v1/projects - the projects of the caller's organization(s)
export const GET = withCaller(async ({ req, caller }) => {
  const query = readQuery(req, ListSchema);
  const organizationIds = query.organizationId ? [actingOrganization(caller, query.organizationId)] : caller.organizationIds;
  const { items, nextCursor } = await listProjects({ organizationIds, pagination: query });
  return json({ projects: items, nextCursor });
});
