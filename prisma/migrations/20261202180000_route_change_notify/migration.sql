-- Every change to what a proxy's route look-up reads (proxy/routing.ts) notifies the proxies on the channel
-- "msl_routes_changed", so that a cached route is either current or dropped (proxy/route-changes.ts):
--   {"p": projectId, "c": {...}}  a compute's row changed: the columns a route holds, as committed;
--   {"p": projectId}              a compute was deleted, or the project, its roles or their passwords changed;
--   {"o": organizationId}         the organization's plan or quota figure changed, or it was deleted;
--   {"all": true}                 a table was truncated.
-- PostgreSQL delivers a NOTIFY when its transaction commits, in commit order. Hand-written: Prisma's schema
-- has no notion of triggers.
CREATE FUNCTION "msl_notify_compute_route"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('msl_routes_changed', json_build_object('p', OLD."projectId")::text);
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD."projectId" IS DISTINCT FROM NEW."projectId" THEN
    PERFORM pg_notify('msl_routes_changed', json_build_object('p', OLD."projectId")::text);
  END IF;
  PERFORM pg_notify('msl_routes_changed', json_build_object('p', NEW."projectId", 'c', json_build_object(
    'id', NEW.id, 'state', NEW.state, 'version', NEW.version, 'size', NEW.size, 'driver', NEW.driver,
    'driverState', NEW."driverState", 'endpointHost', NEW."endpointHost", 'endpointPort', NEW."endpointPort",
    'endpointSocket', NEW."endpointSocket", 'rolesSyncedVersion', NEW."rolesSyncedVersion",
    'failureReason', NEW."failureReason", 'parkIdleSessions', NEW."parkIdleSessions",
    'parkAfterSeconds', NEW."parkAfterSeconds", 'suspendTimeoutSeconds', NEW."suspendTimeoutSeconds",
    'poolConnections', NEW."poolConnections"))::text);
  RETURN NULL;
END
$$;

-- A project's or an organization's row: its id, under the key the trigger names ('p' or 'o'). NEW is null
-- for a DELETE.
CREATE FUNCTION "msl_notify_routes_of"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('msl_routes_changed', json_build_object(TG_ARGV[0], COALESCE(NEW.id, OLD.id))::text);
  RETURN NULL;
END
$$;

CREATE FUNCTION "msl_notify_role_route"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM pg_notify('msl_routes_changed', json_build_object('p', OLD."projectId")::text);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM pg_notify('msl_routes_changed', json_build_object('p', NEW."projectId")::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION "msl_notify_all_routes"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('msl_routes_changed', '{"all":true}');
  RETURN NULL;
END
$$;

-- Not on "lastActiveAt" (written by every activity report) nor the idle clock's columns: only what a route holds.
CREATE TRIGGER "Compute_route_changed"
  AFTER INSERT OR DELETE OR UPDATE OF "projectId", state, version, size, driver, "driverState", "endpointHost", "endpointPort",
    "endpointSocket", "rolesSyncedVersion", "failureReason", "parkIdleSessions", "parkAfterSeconds", "suspendTimeoutSeconds",
    "poolConnections"
  ON "Compute" FOR EACH ROW EXECUTE FUNCTION "msl_notify_compute_route"();

CREATE TRIGGER "Project_route_changed"
  AFTER DELETE OR UPDATE OF slug, "organizationId", "rolesVersion", "requireTls", "allowedCidrs"
  ON "Project" FOR EACH ROW EXECUTE FUNCTION "msl_notify_routes_of"('p');

CREATE TRIGGER "ProjectRole_route_changed"
  AFTER INSERT OR UPDATE OR DELETE ON "ProjectRole" FOR EACH ROW EXECUTE FUNCTION "msl_notify_role_route"();

CREATE TRIGGER "Organization_route_changed"
  AFTER DELETE OR UPDATE OF plan, "cuHoursQuota" ON "Organization" FOR EACH ROW EXECUTE FUNCTION "msl_notify_routes_of"('o');

CREATE TRIGGER "Compute_routes_truncated" AFTER TRUNCATE ON "Compute" FOR EACH STATEMENT EXECUTE FUNCTION "msl_notify_all_routes"();
CREATE TRIGGER "Project_routes_truncated" AFTER TRUNCATE ON "Project" FOR EACH STATEMENT EXECUTE FUNCTION "msl_notify_all_routes"();
CREATE TRIGGER "ProjectRole_routes_truncated" AFTER TRUNCATE ON "ProjectRole" FOR EACH STATEMENT EXECUTE FUNCTION "msl_notify_all_routes"();
CREATE TRIGGER "Organization_routes_truncated" AFTER TRUNCATE ON "Organization" FOR EACH STATEMENT EXECUTE FUNCTION "msl_notify_all_routes"();
