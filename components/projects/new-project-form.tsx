"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { api, errorMessage, fieldErrors } from "@/lib/api-client";
import type { Compute, Connection, Project } from "@/lib/api-types";
import { ProjectCreateSchema } from "@/lib/schemas";
import { keys } from "../data/keys";
import type { Creation } from "../data/projects";
import { Button } from "../ui/button";
import { FormError, InputField } from "../ui/field";
import { useToast } from "../ui/toast";

/**
 * Creates the project, opens its page at once, and creates its compute meanwhile: the page shows the
 * progress and, when it is done, the password (held in memory only, shown once).
 */
export function NewProjectForm() {
  const router = useRouter();
  const client = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    setFormError(null);
    const parsed = ProjectCreateSchema.safeParse({ name });
    if (!parsed.success) return setError(`Name ${parsed.error.issues[0]?.message ?? "is not valid"}.`);
    setBusy(true);
    let project: Project;
    try {
      project = (await api<{ project: Project }>("POST", "/api/v1/projects", parsed.data)).project;
    } catch (err) {
      const byField = fieldErrors(err);
      if (byField.name) setError(`Name ${byField.name}.`);
      else setFormError(errorMessage(err));
      setBusy(false);
      return;
    }
    const pending: Creation = { status: "pending" };
    client.setQueryData(keys.creation(project.id), pending);
    void api<{ compute: Compute; connection: Connection }>("POST", `/api/v1/projects/${project.id}/compute`)
      .then(({ connection }) => {
        client.setQueryData(keys.secret(project.id), connection);
        client.setQueryData(keys.creation(project.id), null);
        toast(`${project.name} is ready`, { description: "Its compute is running." });
      })
      .catch((err: unknown) => {
        const failed: Creation = { status: "failed", message: errorMessage(err) };
        client.setQueryData(keys.creation(project.id), failed);
        toast("The compute could not be created", { description: errorMessage(err), tone: "error" });
      })
      .finally(() => {
        void client.invalidateQueries({ queryKey: keys.project(project.id) });
        void client.invalidateQueries({ queryKey: keys.projects(), exact: true });
      });
    router.push(`/projects/${project.id}`);
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="max-w-md space-y-4" noValidate>
      <FormError>{formError}</FormError>
      <InputField
        label="Name"
        name="name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={error}
        hint="For you and your team; the connection uses a generated project id."
        autoComplete="off"
        autoFocus
        required
      />
      <Button type="submit" loading={busy}>
        Create project
      </Button>
    </form>
  );
}
