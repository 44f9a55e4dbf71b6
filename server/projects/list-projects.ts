import { db } from "../db";
import { page } from "../util/paginate";
import { withAccess } from "./access-rules";
import type { ComputeState } from "../db";
import type { Pagination } from "@/lib/schemas";

// The project list (GET /api/v1/projects, the console's projects page) in one statement: each project with
// its compute's id and state, newest first, keyset-paginated by id. Prisma's findMany with the compute
// relation costs two statements and about three times the CPU of this one (bench:api), and this is the
// API's most frequent read.

interface Row {
  id: string;
  slug: string;
  name: string;
  organizationId: string;
  createdAt: Date;
  updatedAt: Date;
  requireTls: boolean;
  allowedCidrs: string[];
  computeId: string | null;
  computeState: ComputeState | null;
}

export async function listProjects({ organizationIds, pagination }: { organizationIds: string[]; pagination: Pagination }) {
  const { take } = page.query(pagination);
  // The cursor is the last id of the previous page: the rows after it in (createdAt, id) order, in the same
  // organizations (a cursor from elsewhere, or one that no longer exists, gives an empty page).
  const rows = await db.$queryRaw<Row[]>`
    SELECT p.id, p.slug, p.name, p."organizationId", p."createdAt", p."updatedAt", p."requireTls", p."allowedCidrs",
           c.id AS "computeId", c.state::text AS "computeState"
      FROM "Project" p
      LEFT JOIN "Compute" c ON c."projectId" = p.id
     WHERE p."organizationId" = ANY(${organizationIds}::text[])
       AND (${pagination.cursor ?? null}::text IS NULL OR (p."createdAt", p.id) < (
             SELECT q."createdAt", q.id FROM "Project" q
              WHERE q.id = ${pagination.cursor ?? null}::text AND q."organizationId" = ANY(${organizationIds}::text[])))
     ORDER BY p."createdAt" DESC, p.id DESC
     LIMIT ${take}`;
  const projects = rows.map(({ computeId, computeState, ...project }) => ({
    ...withAccess(project),
    compute: computeId && computeState ? { id: computeId, state: computeState } : null,
  }));
  return page.result(projects, pagination);
}
