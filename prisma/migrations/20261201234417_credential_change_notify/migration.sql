-- Every change that can take rights away from an API key (a key revoked, a member removed or demoted, a user
-- or an organization deleted) notifies the app replicas on the channel "msl_credentials_changed"; each drops
-- the callers it has cached (server/tenancy/verified-callers.ts). PostgreSQL delivers a NOTIFY only when the
-- transaction commits, and once per transaction however many rows or statements sent it (the payload is the
-- transaction's id, the same for all of them).
-- Hand-written: Prisma's schema has no notion of triggers, so `migrate:new` cannot produce this.
CREATE FUNCTION "msl_notify_credentials_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('msl_credentials_changed', txid_current()::text);
  RETURN NULL;
END
$$;

-- Not on "lastUsedAt" (written as keys are used): only what decides whether and how a key may act.
CREATE TRIGGER "ApiKey_credentials_changed"
  AFTER UPDATE OF "revokedAt", "role", "organizationId", "createdById", "hash" OR DELETE OR TRUNCATE ON "ApiKey"
  FOR EACH STATEMENT EXECUTE FUNCTION "msl_notify_credentials_changed"();

CREATE TRIGGER "Membership_credentials_changed"
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Membership"
  FOR EACH STATEMENT EXECUTE FUNCTION "msl_notify_credentials_changed"();

CREATE TRIGGER "User_credentials_changed"
  AFTER UPDATE OF "email", "currentOrganizationId" OR DELETE OR TRUNCATE ON "User"
  FOR EACH STATEMENT EXECUTE FUNCTION "msl_notify_credentials_changed"();

CREATE TRIGGER "Organization_credentials_changed"
  AFTER DELETE OR TRUNCATE ON "Organization"
  FOR EACH STATEMENT EXECUTE FUNCTION "msl_notify_credentials_changed"();
