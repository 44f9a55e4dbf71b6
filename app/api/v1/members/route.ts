import { json, readQuery } from "@/app/_lib/http";
import { withCaller } from "@/app/_lib/route";
import { PaginationSchema } from "@/lib/schemas";
import { listMembers } from "@/server/members/list-members";

// GET /api/v1/members - the members of the acting organization with their roles
export const GET = withCaller(async ({ req, caller }) => {
  const pagination = readQuery(req, PaginationSchema);
  const { items, nextCursor } = await listMembers({ caller, pagination });
  return json({ members: items, nextCursor });
});
