import { json, readBody, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { IdSchema, PaginationSchema, ProjectCreateSchema } from "@/lib/schemas";
import { createProject } from "@/server/projects/projects";
import { listProjects } from "@/server/projects/list-projects";
import { actingOrganization } from "@/server/tenancy/caller";

// POST /api/v1/projects - create a project
export const POST = withCaller(async ({ req, caller }) => {
  const input = await readBody(req, ProjectCreateSchema);
  const organizationId = actingOrganization(caller, input.organizationId);
  const project = await createProject({ caller, organizationId, name: input.name, slug: input.slug });
  return json({ project }, 201);
});

// Never cached or prerendered (like the health routes): skips Next's response-cache bookkeeping per call.
export const dynamic = "force-dynamic";

const ListSchema = PaginationSchema.extend({ organizationId: IdSchema.optional() });

// GET /api/v1/projects - the projects of the acting organization (current, or ?organizationId=)
export const GET = withCaller(async ({ req, caller }) => {
  const query = readQuery(req, ListSchema);
  const { items, nextCursor } = await listProjects({ organizationIds: [caller.organizationId], pagination: query });
  return json({ projects: items, nextCursor });
});
