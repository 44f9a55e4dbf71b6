import { json } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { deleteRole } from "@/server/roles/roles";

// DELETE /api/v1/projects/{id}/roles/{name} - remove a role (its MariaDB account is dropped)
export const DELETE = withCaller<{ id: string; name: string }>(async ({ params, caller }) => {
  await deleteRole({ organizationIds: caller.organizationIds, projectId: params.id, name: params.name });
  return json({ role: { name: params.name }, deleted: true });
});
