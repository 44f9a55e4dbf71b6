import { json, readBody } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { MemberUpdateSchema } from "@/lib/schemas";
import { changeMemberRole } from "@/server/members/change-member-role";
import { removeMember } from "@/server/members/remove-member";

// PATCH /api/v1/members/{userId} - change a member's role (only owners grant or take away owner)
export const PATCH = withCaller<{ userId: string }>(async ({ req, params, caller }) => {
  const { role } = await readBody(req, MemberUpdateSchema);
  return json({ member: await changeMemberRole({ caller, userId: params.userId, role }) });
});

// DELETE /api/v1/members/{userId} - remove a member (their keys are revoked), or leave: your own user id
export const DELETE = withCaller<{ userId: string }>(async ({ params, caller }) => {
  const member = await removeMember({ caller, userId: params.userId });
  return json({ member, removed: true });
});
