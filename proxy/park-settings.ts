import type { ParkSettings, Route } from "./routing";

// Whether, and after how long idle, a session of this route's compute is parked: the compute's
// parkIdleSessions and parkAfterSeconds (resolved against its suspend timeout in proxy/routing.ts).

const NEVER: ParkSettings = { enabled: false, afterSeconds: 0 };

export function parkSettingsOf(route: Route): ParkSettings {
  return route.compute?.park ?? NEVER;
}
