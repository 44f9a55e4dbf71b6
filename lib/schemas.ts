import { z } from "zod";
import { normalizeCidr } from "./cidr";
import { MEMBER_ROLES } from "./roles";

// Input schemas shared by the route handlers, the console's forms and the proxy. Types come from z.infer.

export const NAME_MAX = 63;

/**
 * The base of every string schema whose value may reach PostgreSQL: PostgreSQL text cannot hold U+0000
 * (error 22021, which would surface as a 500), so it is refused here, with the field's path, as a 422.
 * Use it instead of `z.string()` for input.
 */
export const text = () => z.string().refine((s) => !s.includes("\u0000"), "must not contain NUL characters (\\u0000)");

export const EmailSchema = text().trim().toLowerCase().email("must be an email address").max(254);
export const PasswordSchema = text()
  .min(8, "must be at least 8 characters")
  .max(200, "must be at most 200 characters");
export const DisplayNameSchema = text()
  .trim()
  .min(1, "must not be empty")
  .max(NAME_MAX, `must be at most ${NAME_MAX} characters`);

export const SignupSchema = z.object({
  email: EmailSchema,
  password: PasswordSchema,
  name: DisplayNameSchema.optional(),
  organization: DisplayNameSchema.optional(),
});
export type SignupInput = z.infer<typeof SignupSchema>;

export const SignInSchema = z.object({ email: EmailSchema, password: text().min(1).max(200) });

/** A resource id named in a body or query (ids are cuids; anything else simply matches nothing). */
export const IdSchema = text().min(1).max(200);

/** Lowercase words and digits joined by hyphens; it becomes part of a MySQL user name (`<slug>.<role>`). */
export const ProjectSlugSchema = text()
  .min(3, "must be at least 3 characters")
  .max(40, "must be at most 40 characters")
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, "must be lowercase letters and digits in words joined by single hyphens");

/** A MariaDB account name the proxy can route: lowercase letters, digits and underscores. */
export const RoleNameSchema = text()
  .min(1, "must not be empty")
  .max(32, "must be at most 32 characters")
  .regex(/^[a-z][a-z0-9_]*$/, "must start with a letter and hold only lowercase letters, digits and underscores");

export const MemberRoleSchema = z.enum(MEMBER_ROLES, { error: `must be one of ${MEMBER_ROLES.join(", ")}` });

/** A new API key: its role defaults to the creator's own and may not be above it. */
export const ApiKeyCreateSchema = z.object({ name: DisplayNameSchema.default("default"), role: MemberRoleSchema.optional() });

export const OrganizationCreateSchema = z.object({ name: DisplayNameSchema });
/** Switch the session's current organization. */
export const CurrentOrganizationSchema = z.object({ organizationId: IdSchema });

export const InvitationCreateSchema = z.object({ email: EmailSchema, role: MemberRoleSchema.default("member") });
/** An invitation or password-reset link's token. */
export const TokenSchema = text().min(1, "must not be empty").max(200);
export const InvitationAcceptSchema = z.object({ token: TokenSchema });
export const MemberUpdateSchema = z.object({ role: MemberRoleSchema });

export const PasswordChangeSchema = z.object({ currentPassword: text().min(1, "must not be empty").max(200), newPassword: PasswordSchema });
export const PasswordResetSchema = z.object({ token: TokenSchema, newPassword: PasswordSchema });

export const ProjectCreateSchema = z.object({
  name: DisplayNameSchema,
  slug: ProjectSlugSchema.optional(),
  organizationId: IdSchema.optional(),
});

/** At most this many allowed IP ranges per project (one connection checks them all). */
export const MAX_ALLOWED_CIDRS = 100;

/** An IPv4 or IPv6 CIDR, or a bare address (a /32 or /128), in its normal form (lib/cidr.ts). */
export const CidrSchema = text()
  .trim()
  .max(64, "must be at most 64 characters")
  .refine((s) => normalizeCidr(s) !== null, "must be an IPv4 or IPv6 address or CIDR range, e.g. 203.0.113.0/24 or 2001:db8::/32")
  .transform((s) => normalizeCidr(s)!);

/**
 * A project's access rules, checked by the proxy before it wakes anything. A change names only the rules it
 * changes; an empty `allowedCidrs` admits every address. Unknown keys are refused, so a misspelt rule is
 * not silently ignored.
 */
export const AccessRulesUpdateSchema = z
  .object({
    requireTls: z.boolean(),
    allowedCidrs: z
      .array(CidrSchema)
      .max(MAX_ALLOWED_CIDRS, `must hold at most ${MAX_ALLOWED_CIDRS} ranges`)
      .transform((cidrs) => [...new Set(cidrs)]),
  })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, "give at least one rule to change: requireTls, allowedCidrs");
export type AccessRulesUpdate = z.infer<typeof AccessRulesUpdateSchema>;

export const ProjectUpdateSchema = z
  .object({ name: DisplayNameSchema, access: AccessRulesUpdateSchema })
  .partial()
  .refine((v) => Object.keys(v).length > 0, "give at least one field to change: name, access");

/** Compute sizes on offer, in compute units (1 CU = 1 vCPU and 4 GiB of memory). */
export const COMPUTE_SIZES = [0.25, 0.5, 1, 2, 4, 8] as const;
export const MAX_SUSPEND_TIMEOUT_SECONDS = 7 * 24 * 3600;

export const ComputeSizeSchema = z
  .number()
  .refine((n) => (COMPUTE_SIZES as readonly number[]).includes(n), `must be one of ${COMPUTE_SIZES.join(", ")}`);

/** An idle timeout: 0 (never) or between the deployment's minimum and 7 days. */
export function timeoutSchema(minSeconds: number) {
  return z
    .number()
    .int("must be a whole number of seconds")
    .refine(
      (n) => n === 0 || (n >= minSeconds && n <= MAX_SUSPEND_TIMEOUT_SECONDS),
      `must be 0 (never) or between ${minSeconds} and ${MAX_SUSPEND_TIMEOUT_SECONDS} seconds`,
    );
}

/** The longest a session may stay idle before it is parked: a day (longer, the compute has long paused anyway). */
export const MAX_PARK_AFTER_SECONDS = 24 * 3600;

/** When idle sessions park: between the deployment's minimum idle timeout (at least 1 s) and a day, or null (the suspend timeout). */
export function parkAfterSchema(minSeconds: number) {
  const min = Math.max(1, minSeconds);
  const message = `must be a whole number of seconds between ${min} and ${MAX_PARK_AFTER_SECONDS}, or null (the suspend timeout)`;
  return z
    .number({ error: message })
    .int(message)
    .refine((n) => n >= min && n <= MAX_PARK_AFTER_SECONDS, message)
    .nullable();
}

export function computeSettingsSchema(minSeconds: number) {
  return z.object({
    size: ComputeSizeSchema.optional(),
    suspendTimeoutSeconds: timeoutSchema(minSeconds).optional(),
    coldAfterSeconds: timeoutSchema(minSeconds).optional(),
    parkIdleSessions: z.boolean({ error: "must be true or false" }).optional(),
    parkAfterSeconds: parkAfterSchema(minSeconds).optional(),
    poolConnections: z.boolean({ error: "must be true or false" }).optional(),
  });
}
export type ComputeSettingsInput = z.infer<ReturnType<typeof computeSettingsSchema>>;

export const RoleCreateSchema = z.object({ name: RoleNameSchema });

export const PaginationSchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: text().min(1).optional(),
});
export type Pagination = z.infer<typeof PaginationSchema>;

export const PLANS = ["free", "pro", "enterprise"] as const;
const PlanSchema = z.enum(PLANS, { error: `must be one of ${PLANS.join(", ")}` });
/** A monthly spend cap in USD (cents at most), or null for none. */
export const SpendCapSchema = z
  .number({ error: "must be an amount in USD, or null for no cap" })
  .positive({ error: "must be more than 0 (null removes the cap)" })
  .max(10_000_000, { error: "must be at most 10000000" })
  .refine((n) => Math.abs(Math.round(n * 100) - n * 100) < 1e-6, { error: "must be in whole cents" })
  .nullable();
/** PATCH /api/v1/billing: the plan, the spend cap, or both. */
export const BillingChangeSchema = z
  .object({ plan: PlanSchema.optional(), spendCapUsd: SpendCapSchema.optional() })
  .refine((b) => b.plan !== undefined || b.spendCapUsd !== undefined, { error: "give plan, spendCapUsd or both" });
export type BillingChangeInput = z.infer<typeof BillingChangeSchema>;
