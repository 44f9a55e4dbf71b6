"use client";

import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { api, ApiError, errorMessage, fieldErrors } from "@/lib/api-client";
import type { AccessRules, Compute } from "@/lib/api-types";
import { AccessRulesUpdateSchema, COMPUTE_SIZES, computeSettingsSchema } from "@/lib/schemas";
import { useInvalidateProject } from "../data/projects";
import { ReadOnlyNote, useCan } from "../organizations/role-context";
import { Button } from "../ui/button";
import { Card } from "../ui/card";
import { FormError, InputField, SelectField, TextareaField } from "../ui/field";
import { SwitchField } from "../ui/switch-field";
import { useToast } from "../ui/toast";

type SettingsField = "size" | "suspendTimeoutSeconds" | "coldAfterSeconds" | "parkIdleSessions" | "parkAfterSeconds" | "poolConnections";

/**
 * Suspend timeout, cold-after, size, the parking of idle sessions and connection pooling; the shared zod schema checks first,
 * the API's 422 is shown inline too. An empty "Park after" means the suspend timeout (null).
 */
export function ComputeSettingsForm({ compute, minSeconds }: { compute: Compute; minSeconds: number }) {
  const toast = useToast();
  const invalidate = useInvalidateProject(compute.projectId);
  const [values, setValues] = useState({
    size: String(compute.size),
    suspendTimeoutSeconds: String(compute.suspendTimeoutSeconds),
    coldAfterSeconds: String(compute.coldAfterSeconds),
    parkAfterSeconds: compute.parkAfterSeconds === null ? "" : String(compute.parkAfterSeconds),
  });
  const [parkIdleSessions, setParkIdleSessions] = useState(compute.parkIdleSessions);
  const [poolConnections, setPoolConnections] = useState(compute.poolConnections);
  const [errors, setErrors] = useState<Partial<Record<SettingsField, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: object) => api("PATCH", `/api/v1/compute/${compute.id}`, body),
    onSuccess: () => toast("Compute settings saved"),
    onError: (e) => {
      const byField = fieldErrors(e);
      if (Object.keys(byField).length) setErrors(byField);
      else if (e instanceof ApiError && e.code === "quota_exceeded") setErrors({ coldAfterSeconds: e.message });
      else setFormError(errorMessage(e));
    },
    onSettled: () => invalidate(),
  });

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setErrors({});
    setFormError(null);
    const num = (s: string) => (s.trim() === "" ? NaN : Number(s));
    const parsed = computeSettingsSchema(minSeconds).safeParse({
      size: num(values.size),
      suspendTimeoutSeconds: num(values.suspendTimeoutSeconds),
      coldAfterSeconds: num(values.coldAfterSeconds),
      parkIdleSessions,
      parkAfterSeconds: values.parkAfterSeconds.trim() === "" ? null : num(values.parkAfterSeconds),
      poolConnections,
    });
    if (!parsed.success) {
      const next: Partial<Record<SettingsField, string>> = {};
      for (const issue of parsed.error.issues) next[issue.path[0] as SettingsField] ??= issue.message.includes("expected number") ? "must be a number" : issue.message;
      return setErrors(next);
    }
    save.mutate(parsed.data);
  };
  const set = (k: SettingsField) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setValues((v) => ({ ...v, [k]: e.target.value }));

  return (
    <form onSubmit={submit} className="space-y-4" noValidate aria-label="Compute settings">
      <FormError>{formError}</FormError>
      <div className="grid gap-4 sm:grid-cols-3">
        <InputField
          label="Suspend timeout (seconds)"
          inputMode="numeric"
          value={values.suspendTimeoutSeconds}
          onChange={set("suspendTimeoutSeconds")}
          error={errors.suspendTimeoutSeconds}
          hint="Idle time before it pauses; 0 = never."
        />
        <InputField
          label="Cold after (seconds)"
          inputMode="numeric"
          value={values.coldAfterSeconds}
          onChange={set("coldAfterSeconds")}
          error={errors.coldAfterSeconds}
          hint="Paused time before it stops; 0 = never (paid plans)."
        />
        <SelectField
          label="Size"
          value={values.size}
          onChange={set("size")}
          error={errors.size}
          options={COMPUTE_SIZES.map((s) => ({ value: String(s), label: `${s} CU (${s * 4} GiB)` }))}
          hint="A new size restarts a running compute."
        />
      </div>
      <div className="grid gap-4 sm:grid-cols-3">
        <SwitchField
          label="Park idle sessions"
          checked={parkIdleSessions}
          onChange={setParkIdleSessions}
          error={errors.parkIdleSessions}
          hint="Idle client connections stay open but stop keeping the compute awake."
        />
        <InputField
          label="Park after (seconds)"
          inputMode="numeric"
          value={values.parkAfterSeconds}
          onChange={set("parkAfterSeconds")}
          error={errors.parkAfterSeconds}
          placeholder={values.suspendTimeoutSeconds}
          disabled={!parkIdleSessions}
          hint="Idle time before a session parks; empty = the suspend timeout."
        />
        <SwitchField
          label="Pool connections"
          checked={poolConnections}
          onChange={setPoolConnections}
          error={errors.poolConnections}
          hint="Clients share a few server connections between statements. Turn off for applications that rely on per-connection state the proxy cannot follow."
        />
      </div>
      <Button type="submit" loading={save.isPending}>
        Save compute settings
      </Button>
    </form>
  );
}

/** Require TLS and the allowed IP ranges, checked by the proxy before it wakes anything. */
export function AccessRulesForm({ projectId, access }: { projectId: string; access: AccessRules }) {
  const toast = useToast();
  const invalidate = useInvalidateProject(projectId);
  const [requireTls, setRequireTls] = useState(access.requireTls);
  const [cidrs, setCidrs] = useState(access.allowedCidrs.join("\n"));
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const lines = cidrs
    .split(/[\n,]/)
    .map((l) => l.trim())
    .filter(Boolean);
  const save = useMutation({
    mutationFn: (body: object) => api<{ project: { access: AccessRules } }>("PATCH", `/api/v1/projects/${projectId}`, { access: body }),
    onSuccess: ({ project }) => {
      setCidrs(project.access.allowedCidrs.join("\n"));
      toast("Access rules saved", { description: "New connections see them within a second." });
    },
    onError: (e) => {
      const byField = fieldErrors(e);
      const entry = Object.entries(byField).find(([path]) => path.startsWith("access.allowedCidrs"));
      if (entry) setError(describeCidrError(entry[0].replace(/^access\./, ""), entry[1], lines));
      else setFormError(errorMessage(e));
    },
    onSettled: () => invalidate(),
  });

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    setFormError(null);
    const parsed = AccessRulesUpdateSchema.safeParse({ requireTls, allowedCidrs: lines });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      if (issue) setError(describeCidrError(issue.path.join("."), issue.message, lines));
      return;
    }
    save.mutate(parsed.data);
  };

  return (
    <form onSubmit={submit} className="space-y-4" noValidate aria-label="Access rules">
      <FormError>{formError}</FormError>
      <div className="flex items-start gap-2">
        <input id="require-tls" type="checkbox" checked={requireTls} onChange={(e) => setRequireTls(e.target.checked)} className="mt-0.5 size-4 accent-indigo-600" />
        <div>
          <label htmlFor="require-tls" className="text-sm font-medium text-slate-800">
            Require TLS
          </label>
          <p className="text-xs text-slate-600">Refuse clients that do not connect with --ssl (ssl-mode=REQUIRED).</p>
        </div>
      </div>
      <TextareaField
        label="Allowed IP ranges"
        rows={4}
        value={cidrs}
        onChange={(e) => setCidrs(e.target.value)}
        error={error}
        placeholder={"203.0.113.0/24\n2001:db8::/32"}
        hint="One IPv4 or IPv6 address or CIDR range per line. Empty: every address may connect."
        spellCheck={false}
      />
      <Button type="submit" loading={save.isPending}>
        Save access rules
      </Button>
    </form>
  );
}

/** "allowedCidrs.1: must be an IPv4…" -> "Line 2 (10.0.0.300): must be an IPv4…". */
function describeCidrError(path: string, message: string, lines: string[]): string {
  const index = /allowedCidrs\.(\d+)/.exec(path)?.[1];
  if (index === undefined) return `Allowed IP ranges ${message}.`;
  const n = Number(index);
  return `Line ${n + 1} (${lines[n] ?? "?"}) ${message}.`;
}

export function SettingsPanel({ compute, access, projectId, minSeconds }: { compute: Compute | null; access: AccessRules; projectId: string; minSeconds: number }) {
  const canWrite = useCan("projects.write");
  if (!canWrite) return <ReadOnlySettings compute={compute} access={access} />;
  return (
    <Card id="settings" title="Settings">
      <div className="space-y-8">
        {compute ? (
          <div>
            <h3 className="mb-3 text-sm font-semibold text-slate-900">Compute</h3>
            <ComputeSettingsForm key={`${compute.id}`} compute={compute} minSeconds={minSeconds} />
          </div>
        ) : null}
        <div>
          <h3 className="mb-3 text-sm font-semibold text-slate-900">Access</h3>
          <AccessRulesForm projectId={projectId} access={access} />
        </div>
      </div>
    </Card>
  );
}

const timeout = (s: number) => (s === 0 ? "never" : `${s} seconds`);

/** The settings as text, for a role that may read but not change them. */
function ReadOnlySettings({ compute, access }: { compute: Compute | null; access: AccessRules }) {
  const rows: [string, string][] = [
    ...(compute
      ? ([
          ["Size", `${compute.size} CU`],
          ["Suspend timeout", timeout(compute.suspendTimeoutSeconds)],
          ["Cold after", timeout(compute.coldAfterSeconds)],
          ["Park idle sessions", compute.parkIdleSessions ? `yes, after ${timeout(compute.parkAfterSeconds ?? compute.suspendTimeoutSeconds)}` : "no"],
          ["Pool connections", compute.poolConnections ? "yes" : "no"],
        ] as [string, string][])
      : []),
    ["Require TLS", access.requireTls ? "yes" : "no"],
    ["Allowed IP ranges", access.allowedCidrs.length ? access.allowedCidrs.join(", ") : "every address"],
  ];
  return (
    <Card id="settings" title="Settings">
      <ReadOnlyNote>Read-only: your role (viewer) can see the settings but not change them.</ReadOnlyNote>
      <dl className="mt-4 grid grid-cols-1 gap-3 sm:grid-cols-2" data-testid="settings-read-only">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt className="text-xs font-medium text-slate-600 uppercase">{label}</dt>
            <dd className="mt-0.5 text-sm break-words text-slate-900">{value}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}
