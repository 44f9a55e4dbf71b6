import { json } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { deleteRole } from "@/server/roles/roles";

// DELETE /api/v1/projects/{id}/roles/{name} - remove a role (its MariaDB account is dropped)
export const DELETE = withCaller<{ id: string; name: string }>(async ({ params, caller }) => {
  const role = await deleteRole({ caller, projectId: params.id, name: params.name });
  return json({ role: { id: role.id, name: role.name }, deleted: true });
});
