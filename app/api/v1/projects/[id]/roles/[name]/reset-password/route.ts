import { json } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { resetRolePassword } from "@/server/roles/roles";

// POST /api/v1/projects/{id}/roles/{name}/reset-password - a new password for the role, shown once
export const POST = withCaller<{ id: string; name: string }>(async ({ params, caller }) => {
  return json(await resetRolePassword({ caller, projectId: params.id, name: params.name }));
});
