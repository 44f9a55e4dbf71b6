import { config } from "../config";

/** How a client connects: through the proxy, as `<project-slug>.<role>` (DESIGN.md, "Proxy contract"). */
export function connectionDetails({
  projectSlug,
  role,
  password,
  database,
}: {
  projectSlug: string;
  role: string;
  password: string | null;
  database: string;
}) {
  const cfg = config();
  const user = `${projectSlug}.${role}`;
  const host = cfg.PROXY_PUBLIC_HOST;
  // Behind a load balancer the public port may differ from the one the proxy listens on.
  const port = cfg.PROXY_PUBLIC_PORT ?? cfg.PROXY_PORT;
  const auth = password === null ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
  return { host, port, user, password, database, uri: `mysql://${auth}@${host}:${port}/${database}` };
}
