import type { Route } from "./routing";

// Whether, and after how long idle, a session of this route's compute is parked. The compute's settings
// come with its route (parkIdleSessions, and parkAfterSeconds resolved against suspendTimeoutSeconds);
// a route read before those fields existed parks after the default suspend timeout.

export interface ParkSettings {
  enabled: boolean;
  afterSeconds: number;
}

/** The default suspendTimeoutSeconds of a compute (prisma/schema.prisma). */
const DEFAULT_AFTER_SECONDS = 300;

export function parkSettingsOf(route: Route): ParkSettings {
  const park = (route.compute as { park?: ParkSettings } | null)?.park;
  return park ?? { enabled: true, afterSeconds: DEFAULT_AFTER_SECONDS };
}
