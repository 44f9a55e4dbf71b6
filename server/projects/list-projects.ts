import { dbPool } from "../db";
import { page } from "../util/paginate";
import { withAccess } from "./access-rules";
import type { ComputeState } from "../db";
import type { Pagination } from "@/lib/schemas";

// The project list (GET /api/v1/projects, the console's projects page) in one statement: each project with
// its compute's id and state, newest first, keyset-paginated by id. It is the API's most frequent read, so
// it is hand-written and prepared once per connection (a named statement): Prisma's findMany with the
// compute relation cost two statements, each parsed and planned again, and about three times the CPU in
// this process (bench:api measured both).

interface Row {
  id: string;
  slug: string;
  name: string;
  organizationId: string;
  /** ISO 8601 in UTC with milliseconds, as JSON shows a Date. */
  createdAt: string;
  updatedAt: string;
  requireTls: boolean;
  allowedCidrs: string[];
  computeId: string | null;
  computeState: ComputeState | null;
}

// Times as the text JSON would show (the columns hold UTC): no Date objects to make and print again.
const ISO_UTC = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const COLUMNS = `p.id, p.slug, p.name, p."organizationId", to_char(p."createdAt", ${ISO_UTC}) AS "createdAt",
  to_char(p."updatedAt", ${ISO_UTC}) AS "updatedAt", p."requireTls", p."allowedCidrs",
  c.id AS "computeId", c.state::text AS "computeState"`;

const FIRST_PAGE = `
  SELECT ${COLUMNS}
    FROM "Project" p LEFT JOIN "Compute" c ON c."projectId" = p.id
   WHERE p."organizationId" = ANY($1::text[])
   ORDER BY p."createdAt" DESC, p.id DESC
   LIMIT $2`;

// The rows after the cursor's in (createdAt, id) order, in the same organizations: a cursor from elsewhere,
// or one that no longer exists, gives an empty page.
const NEXT_PAGE = `
  SELECT ${COLUMNS}
    FROM "Project" p LEFT JOIN "Compute" c ON c."projectId" = p.id
   WHERE p."organizationId" = ANY($1::text[])
     AND (p."createdAt", p.id) < (SELECT q."createdAt", q.id FROM "Project" q WHERE q.id = $3 AND q."organizationId" = ANY($1::text[]))
   ORDER BY p."createdAt" DESC, p.id DESC
   LIMIT $2`;

export async function listProjects({ organizationIds, pagination }: { organizationIds: string[]; pagination: Pagination }) {
  const { take } = page.query(pagination);
  const { rows } = await dbPool().query<Row>(
    pagination.cursor
      ? { name: "list-projects-after", text: NEXT_PAGE, values: [organizationIds, take, pagination.cursor] }
      : { name: "list-projects", text: FIRST_PAGE, values: [organizationIds, take] },
  );
  const projects = rows.map(({ computeId, computeState, ...project }) => ({
    ...withAccess(project),
    compute: computeId && computeState ? { id: computeId, state: computeState } : null,
  }));
  return page.result(projects, pagination);
}
