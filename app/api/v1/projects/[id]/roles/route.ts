import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { RoleCreateSchema } from "@/lib/schemas";
import { createRole, listRoles } from "@/server/roles/roles";

// GET /api/v1/projects/{id}/roles - the project's MariaDB roles (never their passwords)
export const GET = withCaller<{ id: string }>(async ({ params, caller }) => {
  return json({ roles: await listRoles({ organizationIds: caller.organizationIds, projectId: params.id }) });
});

// POST /api/v1/projects/{id}/roles - create a role; its password is in this reply only
export const POST = withCaller<{ id: string }>(async ({ req, params, caller }) => {
  const { name } = await readBody(req, RoleCreateSchema);
  return json(await createRole({ caller, projectId: params.id, name }), 201);
});
