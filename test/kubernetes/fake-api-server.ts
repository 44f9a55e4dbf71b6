import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { jsonPatch, mergePatch, PatchError } from "./patch";
import { schemaError } from "./validate-object";

// An in-process stand-in for a Kubernetes API server, for the kinds the kubernetes driver uses, spoken over
// HTTP on the real REST paths: create (POST), get and list (GET, label and field selectors), watch (GET
// ?watch=true, a stream of JSON events from a resourceVersion), JSON merge patch and JSON patch (PATCH with
// their content types), replace (PUT) and delete. Errors are Status bodies with the real codes: 404
// NotFound, 409 AlreadyExists on a create of an existing object, 409 Conflict on a stale resourceVersion,
// 422 Invalid for an object the OpenAPI schema rejects or an immutable field changed, 415 for a patch type
// it does not speak. Pods are deleted gracefully (deletionTimestamp first; the fake kubelet finishes it).
// The cluster's controllers (fake-cluster.ts) act on the objects through the same store.

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string }[];
  };
  spec?: Record<string, unknown> & { replicas?: number };
  status?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
};

interface ResourceType {
  group: string; // "" for core
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

const TYPES: ResourceType[] = [
  { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false },
  { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true },
  { group: "", version: "v1", plural: "services", kind: "Service", namespaced: true },
  { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true },
  { group: "", version: "v1", plural: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true },
  { group: "", version: "v1", plural: "resourcequotas", kind: "ResourceQuota", namespaced: true },
  { group: "", version: "v1", plural: "limitranges", kind: "LimitRange", namespaced: true },
  { group: "apps", version: "v1", plural: "statefulsets", kind: "StatefulSet", namespaced: true },
  { group: "networking.k8s.io", version: "v1", plural: "networkpolicies", kind: "NetworkPolicy", namespaced: true },
];

const apiVersionOf = (t: ResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);

export interface StoreEvent {
  type: "ADDED" | "MODIFIED" | "DELETED";
  kind: string;
  object: KubeObject;
  resourceVersion: number;
}

/** A request as it arrived (for tests that check what the driver sent). */
export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: unknown;
  status: number;
  /** A watch (GET ?watch=true). */
  watch: boolean;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; kind?: string },
  ) {
    super(message);
  }
}

const EVENT_LOG_SIZE = 2000;

export class FakeKubernetes extends EventEmitter<{ event: [StoreEvent] }> {
  private readonly objects = new Map<string, KubeObject>();
  private readonly log: StoreEvent[] = [];
  private version = 100;
  private server: http.Server | null = null;
  private readonly watchResponses = new Set<http.ServerResponse>();
  private nextServiceIp = 1;
  readonly requests: RecordedRequest[] = [];
  /** Watch requests per path (with their query), to see a watch re-established. */
  watchCount = 0;

  constructor(private readonly serviceIpPrefix = "127.80") {
    super();
    this.setMaxListeners(50);
  }

  async listen(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.breakWatches();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Cut every open watch stream mid-way (what a restarting API server or a dropped connection does). */
  breakWatches(): number {
    const count = this.watchResponses.size;
    for (const res of this.watchResponses) res.socket?.destroy();
    this.watchResponses.clear();
    return count;
  }

  // ---- the store, for the fake cluster's controllers and for tests ----

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const object = this.objects.get(this.key(kind, namespace, name));
    return object ? structuredClone(object) : undefined;
  }

  list(kind: string, namespace?: string): KubeObject[] {
    return [...this.objects.values()]
      .filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace))
      .map((o) => structuredClone(o));
  }

  /** Write an object as a controller does (no schema check; resourceVersion bumped, event sent). */
  put(object: KubeObject): KubeObject {
    const key = this.key(object.kind!, object.metadata.namespace, object.metadata.name);
    const existed = this.objects.has(key);
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.version);
    this.objects.set(key, stored);
    this.emitEvent(existed ? "MODIFIED" : "ADDED", stored);
    return structuredClone(stored);
  }

  /** Remove for good (the end of a graceful pod deletion, a controller's cleanup). */
  remove(kind: string, namespace: string | undefined, name: string): void {
    const key = this.key(kind, namespace, name);
    const object = this.objects.get(key);
    if (!object) return;
    this.objects.delete(key);
    object.metadata.resourceVersion = String(++this.version);
    this.emitEvent("DELETED", object);
  }

  /** Create as a controller does (the StatefulSet controller's pods and claims). */
  create(object: KubeObject): KubeObject {
    const type = TYPES.find((t) => t.kind === object.kind)!;
    return this.put(this.initialise(type, object));
  }

  private key(kind: string, namespace: string | undefined, name: string): string {
    return `${kind}/${namespace ?? ""}/${name}`;
  }

  private emitEvent(type: StoreEvent["type"], object: KubeObject): void {
    const event: StoreEvent = { type, kind: object.kind!, object: structuredClone(object), resourceVersion: this.version };
    this.log.push(event);
    if (this.log.length > EVENT_LOG_SIZE) this.log.shift();
    this.emit("event", event);
  }

  private initialise(type: ResourceType, body: KubeObject, namespace?: string): KubeObject {
    const object = structuredClone(body);
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    object.metadata = {
      ...object.metadata,
      ...(type.namespaced ? { namespace } : {}),
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString(),
      generation: 1,
    };
    if (type.namespaced && namespace === undefined) object.metadata.namespace = body.metadata.namespace;
    if (type.kind === "Namespace") {
      object.metadata.labels = { ...object.metadata.labels, "kubernetes.io/metadata.name": object.metadata.name };
      object.status = { phase: "Active" };
    }
    if (type.kind === "Secret" && object.stringData) {
      const data = { ...object.data };
      for (const [k, v] of Object.entries(object.stringData)) data[k] = Buffer.from(v).toString("base64");
      object.data = data;
      delete object.stringData;
    }
    if (type.kind === "Service" && object.spec && !object.spec.clusterIP) {
      // From the service CIDR, as the real API server allocates: here loopback addresses the fake kubelet
      // binds the pod's server to, so the Service's address reaches it on this machine.
      const n = this.nextServiceIp++;
      const ip = `${this.serviceIpPrefix}.${Math.floor(n / 250)}.${(n % 250) + 2}`;
      object.spec.clusterIP = ip;
      object.spec.clusterIPs = [ip];
    }
    if (type.kind === "StatefulSet") object.status = { replicas: 0, readyReplicas: 0, availableReplicas: 0 };
    return object;
  }

  // ---- HTTP ----

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const raw = await readBody(req);
    const contentType = req.headers["content-type"]?.split(";")[0]?.trim();
    let body: unknown = undefined;
    const watch = req.method === "GET" && (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1");
    const record = (status: number) =>
      this.requests.push({ method: req.method ?? "GET", path: url.pathname, contentType, body, status, watch });
    try {
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new ApiError(400, "BadRequest", "the request body is not JSON");
        }
      }
      const route = parsePath(url.pathname);
      if (!route) throw new ApiError(404, "NotFound", `the server could not find the requested resource (${url.pathname})`);
      const { type, namespace, name } = route;
      if (watch) {
        record(200);
        this.watch(type, namespace, url.searchParams, res);
        return;
      }
      const status = req.method === "POST" ? 201 : 200;
      const result = this.dispatch(req.method ?? "GET", type, namespace, name, body, contentType, url.searchParams);
      record(status);
      send(res, status, result);
    } catch (error) {
      const e =
        error instanceof ApiError
          ? error
          : error instanceof PatchError
            ? new ApiError(422, "Invalid", error.message)
            : new ApiError(500, "InternalError", String(error));
      record(e.code);
      send(res, e.code, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: e.message,
        reason: e.reason,
        details: e.details ?? {},
        code: e.code,
      });
    }
  }

  private dispatch(
    method: string,
    type: ResourceType,
    namespace: string | undefined,
    name: string | undefined,
    body: unknown,
    contentType: string | undefined,
    query: URLSearchParams,
  ): unknown {
    if (method === "GET" && !name) {
      const items = this.list(type.kind, namespace).filter((o) => matches(o, query));
      return { apiVersion: apiVersionOf(type), kind: `${type.kind}List`, metadata: { resourceVersion: String(this.version) }, items };
    }
    if (method === "POST" && !name) return this.createFromApi(type, namespace, body as KubeObject);
    if (!name) throw new ApiError(405, "MethodNotAllowed", `${method} is not allowed on a collection`);
    const current = this.get(type.kind, namespace, name);
    if (!current) throw new ApiError(404, "NotFound", `${type.plural} "${name}" not found`, { name, kind: type.plural });
    switch (method) {
      case "GET":
        return current;
      case "PUT":
        return this.update(type, current, body as KubeObject);
      case "PATCH": {
        let patched: unknown;
        if (contentType === "application/merge-patch+json") patched = mergePatch(current, body);
        else if (contentType === "application/json-patch+json") patched = jsonPatch(current, body);
        else throw new ApiError(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`);
        // A merge patch may name the resourceVersion it was made from: a precondition, as for PUT.
        const asked = (body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
        const next = patched as KubeObject;
        if (contentType === "application/merge-patch+json" && asked === undefined) next.metadata.resourceVersion = current.metadata.resourceVersion;
        return this.update(type, current, next);
      }
      case "DELETE":
        return this.deleteFromApi(type, current);
      default:
        throw new ApiError(405, "MethodNotAllowed", `${method} is not allowed`);
    }
  }

  private createFromApi(type: ResourceType, namespace: string | undefined, body: KubeObject): KubeObject {
    const name = body?.metadata?.name;
    if (!name || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
      throw new ApiError(422, "Invalid", `${type.kind} "${name ?? ""}" is invalid: metadata.name: Invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`, { name, kind: type.plural });
    }
    if (type.namespaced) {
      if (body.metadata.namespace && body.metadata.namespace !== namespace) {
        throw new ApiError(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
      }
      if (!this.get("Namespace", undefined, namespace!)) throw new ApiError(404, "NotFound", `namespaces "${namespace}" not found`, { name: namespace, kind: "namespaces" });
    }
    if (this.get(type.kind, namespace, name)) {
      throw new ApiError(409, "AlreadyExists", `${type.plural} "${name}" already exists`, { name, kind: type.plural });
    }
    const object = this.initialise(type, body, namespace);
    this.assertValid(type, object);
    return this.put(object);
  }

  private update(type: ResourceType, current: KubeObject, next: KubeObject): KubeObject {
    const asked = next.metadata?.resourceVersion;
    if (asked !== undefined && asked !== current.metadata.resourceVersion) {
      throw new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${type.plural} "${current.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`, { name: current.metadata.name, kind: type.plural });
    }
    if (next.metadata?.name !== current.metadata.name) throw new ApiError(422, "Invalid", "metadata.name: the name cannot change");
    if (type.kind === "StatefulSet") assertStatefulSetUpdate(current, next);
    const object: KubeObject = {
      ...next,
      apiVersion: current.apiVersion,
      kind: current.kind,
      metadata: { ...next.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, namespace: current.metadata.namespace },
      status: current.status,
    };
    if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) object.metadata.generation = (current.metadata.generation ?? 1) + 1;
    this.assertValid(type, object);
    return this.put(object);
  }

  private deleteFromApi(type: ResourceType, current: KubeObject): unknown {
    if (type.kind === "Pod") {
      if (!current.metadata.deletionTimestamp) {
        current.metadata.deletionTimestamp = new Date().toISOString();
        return this.put(current);
      }
      return current;
    }
    if (type.kind === "Namespace") {
      for (const object of [...this.objects.values()].filter((o) => o.metadata.namespace === current.metadata.name)) {
        this.remove(object.kind!, object.metadata.namespace, object.metadata.name);
      }
    }
    this.remove(type.kind, current.metadata.namespace, current.metadata.name);
    return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name: current.metadata.name, kind: type.plural, uid: current.metadata.uid } };
  }

  private assertValid(type: ResourceType, object: KubeObject): void {
    const problem = schemaError(object);
    if (problem) throw new ApiError(422, "Invalid", `${type.kind} "${object.metadata.name}" is invalid: ${problem}`, { name: object.metadata.name, kind: type.plural });
  }

  private watch(type: ResourceType, namespace: string | undefined, query: URLSearchParams, res: http.ServerResponse): void {
    this.watchCount++;
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    const write = (type_: string, object: unknown) => res.write(`${JSON.stringify({ type: type_, object })}\n`);
    const wanted = (o: KubeObject) => o.kind === type.kind && (namespace === undefined || o.metadata.namespace === namespace) && matches(o, query);
    const from = query.get("resourceVersion");
    if (from && from !== "0") {
      const since = Number(from);
      const oldest = this.log[0]?.resourceVersion ?? this.version;
      if (since < oldest - 1) {
        write("ERROR", { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `too old resource version: ${since} (${oldest})`, reason: "Expired", code: 410 });
        res.end();
        return;
      }
      for (const event of this.log) if (event.resourceVersion > since && wanted(event.object)) write(event.type, event.object);
    } else {
      for (const object of this.list(type.kind, namespace)) if (wanted(object)) write("ADDED", object);
    }
    const listener = (event: StoreEvent) => {
      if (wanted(event.object)) write(event.type, event.object);
    };
    this.on("event", listener);
    this.watchResponses.add(res);
    const timeout = Number(query.get("timeoutSeconds") ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : null;
    res.on("close", () => {
      this.off("event", listener);
      this.watchResponses.delete(res);
      if (timer) clearTimeout(timer);
    });
  }
}

function parsePath(pathname: string): { type: ResourceType; namespace?: string; name?: string } | null {
  const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(pathname);
  if (!match) return null;
  const [, coreVersion, group, groupVersion, namespace, plural, name] = match;
  const type = TYPES.find((t) => t.plural === plural && (coreVersion ? t.group === "" && t.version === coreVersion : t.group === group && t.version === groupVersion));
  if (!type) return null;
  if (!type.namespaced && namespace) return null;
  return { type, namespace, name };
}

/** labelSelector (a=b,c!=d,e) and fieldSelector (metadata.name=, metadata.namespace=). */
function matches(object: KubeObject, query: URLSearchParams): boolean {
  const labels = object.metadata.labels ?? {};
  for (const term of (query.get("labelSelector") ?? "").split(",").filter(Boolean)) {
    const [key, value] = term.includes("!=") ? term.split("!=") : term.split("=");
    if (term.includes("!=")) {
      if (labels[key!] === value) return false;
    } else if (value === undefined ? !(key! in labels) : labels[key!] !== value) return false;
  }
  for (const term of (query.get("fieldSelector") ?? "").split(",").filter(Boolean)) {
    const [field, value] = term.split("=");
    if (field === "metadata.name" && object.metadata.name !== value) return false;
    if (field === "metadata.namespace" && object.metadata.namespace !== value) return false;
  }
  return true;
}

/** What the real API server refuses on a StatefulSet update (apps/v1 validation). */
function assertStatefulSetUpdate(current: KubeObject, next: KubeObject): void {
  const a = current.spec ?? {};
  const b = next.spec ?? {};
  for (const field of ["selector", "serviceName", "volumeClaimTemplates", "podManagementPolicy"]) {
    if (JSON.stringify(a[field]) !== JSON.stringify(b[field])) {
      throw new ApiError(422, "Invalid", `StatefulSet.apps "${current.metadata.name}" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`, { name: current.metadata.name, kind: "statefulsets" });
    }
  }
  if (typeof b.replicas === "number" && b.replicas < 0) throw new ApiError(422, "Invalid", "spec.replicas: must be greater than or equal to 0");
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
