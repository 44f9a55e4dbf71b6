import { formatIp, parseCidr, parseClientAddress, cidrContains, type Cidr } from "@/lib/cidr";
import type { AccessRulesUpdate } from "@/lib/schemas";

// A project's access rules: "require TLS" and an IP allow-list. Set through the project's PATCH (validated
// and normalised by lib/schemas.ts), read by the proxy with its route (proxy/routing.ts) and checked there
// once the client's password has verified, before anything wakes:
//   - after the password, because the refusal names the rule and the client's address, and a client
//     without the password must learn nothing about a project (it gets the same 1045 as for a wrong
//     password or an unknown project); a client with the password may be told what to change;
//   - before the wake, so a refused client never starts or thaws a compute.
// Rules apply to new connections (within the proxy's route cache time, PROXY_ROUTE_CACHE_MS) and to
// COM_CHANGE_USER; sessions already open are not cut.

/** The columns behind the rules (Project.requireTls, Project.allowedCidrs). */
export const ACCESS_RULE_FIELDS = { requireTls: true, allowedCidrs: true } as const;

export interface AccessRules {
  requireTls: boolean;
  /** Normalised CIDRs; empty admits every address. */
  allowedCidrs: string[];
}

/** The columns a PATCH's `access` changes; rules it leaves out keep their value. */
export function accessRulesData(update: AccessRulesUpdate | undefined): Partial<AccessRules> {
  if (!update) return {};
  return {
    ...(update.requireTls !== undefined ? { requireTls: update.requireTls } : {}),
    ...(update.allowedCidrs !== undefined ? { allowedCidrs: update.allowedCidrs } : {}),
  };
}

/** A project row as the API shows it: the rule columns grouped under `access`. */
export function withAccess<T extends AccessRules>({ requireTls, allowedCidrs, ...rest }: T): Omit<T, keyof AccessRules> & { access: AccessRules } {
  return { ...rest, access: { requireTls, allowedCidrs } };
}

/** The rules parsed once (the proxy keeps them with its cached route). */
export interface CompiledAccessRules {
  requireTls: boolean;
  /** Null: no allow-list, every address is admitted. */
  allowed: Cidr[] | null;
}

export function compileAccessRules({ requireTls, allowedCidrs }: AccessRules): CompiledAccessRules {
  // An entry that does not parse (stored by hand, say) matches nothing; the list still restricts: fail closed.
  const allowed = allowedCidrs.length === 0 ? null : allowedCidrs.map(parseCidr).filter((c): c is Cidr => c !== null);
  return { requireTls, allowed };
}

export interface AccessRefusal {
  rule: "allowed_cidrs" | "require_tls";
  message: string;
}

/**
 * Why the rules refuse this client, or null when they admit it. The address is checked first: over TLS or
 * not, a refused address stays refused, so that is the one thing to tell.
 */
export function checkAccessRules(
  rules: CompiledAccessRules,
  client: { slug: string; remoteAddress: string | undefined; tls: boolean },
): AccessRefusal | null {
  if (rules.allowed) {
    const address = parseClientAddress(client.remoteAddress);
    if (!address || !rules.allowed.some((cidr) => cidrContains(cidr, address))) {
      const shown = address ? formatIp(address) : (client.remoteAddress ?? "an unknown address");
      return {
        rule: "allowed_cidrs",
        message: `Access denied: project ${client.slug} does not accept connections from ${shown}; add the address to the project's allowed IP ranges`,
      };
    }
  }
  if (rules.requireTls && !client.tls) {
    return {
      rule: "require_tls",
      message: `Access denied: project ${client.slug} accepts connections only over TLS; connect with --ssl (or ssl-mode=REQUIRED)`,
    };
  }
  return null;
}
