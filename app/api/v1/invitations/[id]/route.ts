import { json } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { revokeInvitation } from "@/server/invitations/revoke-invitation";

// DELETE /api/v1/invitations/{id} - revoke an invitation; its link stops working at once
export const DELETE = withCaller<{ id: string }>(async ({ params, caller }) => {
  return json({ invitation: await revokeInvitation({ caller, id: params.id }), revoked: true });
});
