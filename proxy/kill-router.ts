import type { KillScope } from "@/server/proxy-activity/owner-channel";
import { slotOf, type SessionRegistry } from "./sessions";

// Where a KILL's connection id leads: the id's slot names the proxy process that owns the session, and
// only the owner is asked, so a session is reachable the moment it exists. This process answers its own
// ids from its registry; another worker of the same proxy is asked through the primary; any other slot is
// another proxy instance, asked through PostgreSQL (server/proxy-activity/owner-channel.ts). Every answer
// is the compute thread id of an open session of the asker's project and compute, or null (1094).

/** A way to ask the owner of a slot (answers null when the owner is gone or silent past its deadline). */
export interface OwnerAsker {
  ask(slot: number, id: number, scope: KillScope): Promise<number | null>;
}

export interface KillRouterOptions {
  registry: SessionRegistry;
  /** The other workers of this proxy (a cluster worker only). */
  siblings?: (OwnerAsker & { has(slot: number): boolean }) | null;
  /** Other proxy instances. */
  instances: OwnerAsker;
}

export class KillRouter {
  constructor(private readonly o: KillRouterOptions) {}

  /** The compute thread id the KILL of connection `id` must name, or null; at once when it is ours. */
  resolve(id: number, scope: KillScope): number | null | Promise<number | null> {
    const { registry, siblings, instances } = this.o;
    // Ours (also a session of ours from a slot we held before being given another).
    if (registry.get(id)) return registry.answer(id, scope);
    if (registry.owns(id)) return null; // our id, closed
    const slot = slotOf(id);
    if (slot === 0) return null; // never given to a proxy: a compute's own small thread ids
    if (siblings?.has(slot)) return siblings.ask(slot, id, scope);
    return instances.ask(slot, id, scope);
  }
}
