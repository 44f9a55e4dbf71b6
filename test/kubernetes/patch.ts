// The two patch formats the driver sends, applied as the API server applies them: JSON merge patch
// (RFC 7386) and JSON patch (RFC 6902: add, remove, replace, test).

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export class PatchError extends Error {}

interface Operation {
  op: string;
  path: string;
  value?: Json;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new PatchError(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw new PatchError("a JSON patch is an array of operations");
  let doc = structuredClone(target);
  for (const raw of operations as Operation[]) {
    const parts = pointer(raw.path);
    if (parts.length === 0) {
      if (raw.op === "test") {
        if (JSON.stringify(doc) !== JSON.stringify(raw.value)) throw new PatchError("test failed at the root");
        continue;
      }
      doc = structuredClone(raw.value);
      continue;
    }
    const last = parts[parts.length - 1]!;
    let parent: Json = doc;
    for (const part of parts.slice(0, -1)) {
      parent = Array.isArray(parent) ? parent[Number(part)] : isObject(parent) ? parent[part] : undefined;
      if (parent === undefined) throw new PatchError(`path ${raw.path} does not exist`);
    }
    const container = parent as Record<string, Json> | Json[];
    const has = Array.isArray(container) ? Number(last) < container.length : Object.hasOwn(container, last);
    switch (raw.op) {
      case "test":
        if (JSON.stringify((container as Record<string, Json>)[last]) !== JSON.stringify(raw.value)) {
          throw new PatchError(`test failed: ${raw.path} is not ${JSON.stringify(raw.value)}`);
        }
        break;
      case "add":
        if (Array.isArray(container)) container.splice(last === "-" ? container.length : Number(last), 0, structuredClone(raw.value));
        else container[last] = structuredClone(raw.value);
        break;
      case "replace":
        if (!has) throw new PatchError(`replace: ${raw.path} does not exist`);
        (container as Record<string, Json>)[last] = structuredClone(raw.value);
        break;
      case "remove":
        if (!has) throw new PatchError(`remove: ${raw.path} does not exist`);
        if (Array.isArray(container)) container.splice(Number(last), 1);
        else delete container[last];
        break;
      default:
        throw new PatchError(`unsupported operation ${raw.op}`);
    }
  }
  return doc;
}
