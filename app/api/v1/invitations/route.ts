import { json, readBody, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { InvitationCreateSchema, PaginationSchema } from "@/lib/schemas";
import { createInvitation } from "@/server/invitations/create-invitation";
import { listInvitations } from "@/server/invitations/list-invitations";

// POST /api/v1/invitations - invite an email with a role; the link (url, token) is in this reply only
export const POST = withCaller(async ({ req, caller, origin }) => {
  const { email, role } = await readBody(req, InvitationCreateSchema);
  return json(await createInvitation({ caller, email, role, origin }), 201);
});

// GET /api/v1/invitations - the acting organization's open invitations (pending or expired)
export const GET = withCaller(async ({ req, caller }) => {
  const pagination = readQuery(req, PaginationSchema);
  const { items, nextCursor } = await listInvitations({ caller, pagination });
  return json({ invitations: items, nextCursor });
});
