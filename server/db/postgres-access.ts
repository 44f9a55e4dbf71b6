import pg from "pg";
import { scramVerifier } from "./scram";

// Who may log in to the embedded PostgreSQL, put in order at every start by the code that starts it (and only
// there: it is the one user of the superuser password).
// - The superuser `postgres` has a generated password. A data directory made before that (password
//   `postgres`) is recognised by that password being refused, and upgraded in place.
// - The app and the proxy log in as APP_ROLE: LOGIN and nothing else (no SUPERUSER, CREATEDB, CREATEROLE,
//   REPLICATION, BYPASSRLS). It owns the control-plane database and every object in it, so the migrations
//   that run as it at start-up can create and alter tables; it cannot read pg_authid or other databases'
//   tables, create databases or roles, or read and write server files.
// Passwords are sent as SCRAM verifiers computed here (server/db/scram.ts), never in clear.

export const SUPERUSER = "postgres";
export const APP_ROLE = "control_plane_app";
/** The superuser password of data directories initialised before the passwords were generated. */
const LEGACY_SUPERUSER_PASSWORD = "postgres";

export function pgUrl(port: number, user: string, password: string, database: string): string {
  return `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

function isAuthFailure(error: unknown): boolean {
  return (error as { code?: unknown }).code === "28P01";
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

/**
 * A superuser session on `database`. When the generated password is refused but the legacy one is accepted,
 * the data directory predates generated passwords: the superuser's password is changed to the generated one
 * here, so from now on `postgres`/`postgres` is refused.
 */
export async function connectSuperuser(opts: { port: number; password: string; database: string; log?: (line: string) => void }): Promise<pg.Client> {
  try {
    return await connect(pgUrl(opts.port, SUPERUSER, opts.password, opts.database));
  } catch (error) {
    if (!isAuthFailure(error)) throw error;
  }
  let client: pg.Client;
  try {
    client = await connect(pgUrl(opts.port, SUPERUSER, LEGACY_SUPERUSER_PASSWORD, opts.database));
  } catch (error) {
    if (!isAuthFailure(error)) throw error;
    throw new Error(
      "the embedded PostgreSQL refused the superuser password kept in DATA_DIR/secrets/postgres-superuser-password " +
        "(was that file replaced or the secrets directory restored from another DATA_DIR?). Restore the file, or set a new " +
        "password in single-user mode as the postgres account: postgres --single -D <DATA_DIR>/postgres/data postgres, then " +
        "ALTER ROLE postgres PASSWORD '<the file's content>'",
      { cause: error },
    );
  }
  await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD '${scramVerifier(opts.password)}'`);
  opts.log?.("embedded PostgreSQL: the superuser's default password was replaced by a generated one (DATA_DIR/secrets)");
  return client;
}

/** The least-privilege role the app and the proxy log in as, created or put right, with its current password. */
export async function ensureAppRole(admin: pg.Client, password: string): Promise<void> {
  const exists = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [APP_ROLE]);
  if (exists.rowCount === 0) {
    await admin.query(`CREATE ROLE ${APP_ROLE}`).catch((error: { code?: string }) => {
      if (error.code !== "42710") throw error; // created meanwhile by a concurrent starter
    });
  }
  // Every attribute spelled out, so a role someone widened by hand is narrowed again at the next start.
  await admin.query(
    `ALTER ROLE ${APP_ROLE} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT ` +
      `PASSWORD '${scramVerifier(password)}'`,
  );
}

/** The control-plane database, created owned by the app role, or handed to it (data directories made before the role). */
export async function ensureDatabase(admin: pg.Client, database: string): Promise<void> {
  const row = await admin.query<{ owner: string }>(
    "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1",
    [database],
  );
  if (row.rowCount === 0) {
    await admin.query(`CREATE DATABASE ${database} OWNER ${APP_ROLE}`).catch((error: { code?: string }) => {
      if (error.code !== "42P04") throw error; // created by a concurrent starter
    });
  } else if (row.rows[0].owner !== APP_ROLE) {
    await admin.query(`ALTER DATABASE ${database} OWNER TO ${APP_ROLE}`);
  }
}

/**
 * Hands every object of the control-plane database's public schema that the app role does not own to it:
 * tables, views and sequences, then types (Prisma's enums) and routines. Made by the superuser before the app
 * role existed, they would otherwise stop the next migration that alters them. REASSIGN OWNED cannot do this:
 * it refuses objects of the bootstrap superuser. Run on a superuser session connected to that database;
 * nothing to do (one catalog query) once everything belongs to the app role.
 */
export async function handOverObjects(admin: pg.Client, log?: (line: string) => void): Promise<void> {
  const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const statements: string[] = [];
  const schema = await admin.query<{ owner: string }>(
    "SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'public'",
  );
  // Since PostgreSQL 15 public belongs to pg_database_owner, i.e. to whoever owns the database.
  if (schema.rows[0] && ![APP_ROLE, "pg_database_owner"].includes(schema.rows[0].owner)) {
    statements.push(`ALTER SCHEMA public OWNER TO ${APP_ROLE}`);
  }
  // Relations: tables take their indexes and the sequences they own (serial, identity) along, so only
  // sequences no table owns are altered themselves.
  const relations = await admin.query<{ name: string; kind: string }>(
    `SELECT c.relname AS name, c.relkind AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) <> $1
        AND (c.relkind IN ('r', 'p', 'v', 'm', 'f')
             OR (c.relkind = 'S' AND NOT EXISTS (
                   SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))))`,
    [APP_ROLE],
  );
  const relationKeyword: Record<string, string> = { r: "TABLE", p: "TABLE", v: "VIEW", m: "MATERIALIZED VIEW", f: "FOREIGN TABLE", S: "SEQUENCE" };
  for (const r of relations.rows) statements.push(`ALTER ${relationKeyword[r.kind]} public.${ident(r.name)} OWNER TO ${APP_ROLE}`);
  // Types of their own (enums, domains, ranges, stand-alone composites); array and row types follow theirs.
  const types = await admin.query<{ name: string; kind: string }>(
    `SELECT t.typname AS name, t.typtype AS kind
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' AND pg_get_userbyid(t.typowner) <> $1
        AND (t.typtype IN ('e', 'd', 'r')
             OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))`,
    [APP_ROLE],
  );
  for (const t of types.rows) statements.push(`ALTER ${t.kind === "d" ? "DOMAIN" : "TYPE"} public.${ident(t.name)} OWNER TO ${APP_ROLE}`);
  const routines = await admin.query<{ signature: string }>(
    `SELECT p.oid::regprocedure::text AS signature
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> $1`,
    [APP_ROLE],
  );
  for (const r of routines.rows) statements.push(`ALTER ROUTINE ${r.signature} OWNER TO ${APP_ROLE}`);
  if (statements.length === 0) return;

  await admin.query("BEGIN");
  try {
    for (const statement of statements) await admin.query(statement);
    await admin.query("COMMIT");
  } catch (error) {
    await admin.query("ROLLBACK").catch(() => {});
    throw error;
  }
  log?.(`embedded PostgreSQL: ${statements.length} object(s) of the control-plane database handed to the ${APP_ROLE} role`);
}
