// What rendered NetworkPolicies allow, evaluated as Kubernetes does: a connection passes when the
// client's egress and the server's ingress both allow it. A pod no policy selects for a direction
// is open in that direction; one that any policy selects is open only to what some rule allows.
// Enough of the API for the chart's policies: label selectors (matchLabels, matchExpressions),
// namespace selectors, IPv4 ipBlocks with except, numeric ports with endPort.
import type { Manifest } from "./helm.js";

type Labels = Record<string, string>;

interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
  }[];
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}

export interface NetworkPolicy {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  policyTypes: ("Ingress" | "Egress")[];
  ingress: Rule[];
  egress: Rule[];
}

/** One end of a connection: a pod (with its labels and namespace) or an address outside the cluster's pods. */
export interface Endpoint {
  name: string;
  ip: string;
  pod?: { namespace: string; namespaceLabels: Labels; labels: Labels };
}

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol?: "TCP" | "UDP";
}

function selects(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expression.key);
    const value = labels[expression.key];
    const values = expression.values ?? [];
    const ok =
      expression.operator === "In"
        ? has && values.includes(value!)
        : expression.operator === "NotIn"
          ? !has || !values.includes(value!)
          : expression.operator === "Exists"
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

function ipv4(address: string): number {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) {
    throw new Error(`not an IPv4 address: ${address}`);
  }
  return parts.reduce((sum, part) => sum * 256 + part, 0);
}

export function inCidr(address: string, cidr: string): boolean {
  const [base = "", bits = "32"] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4(base) / size) * size;
  const ip = ipv4(address);
  return ip >= start && ip < start + size;
}

function peerMatches(peer: Peer, policyNamespace: string, target: Endpoint): boolean {
  if (peer.ipBlock) {
    return (
      inCidr(target.ip, peer.ipBlock.cidr) &&
      !(peer.ipBlock.except ?? []).some((cidr) => inCidr(target.ip, cidr))
    );
  }
  const pod = target.pod;
  if (!pod) return false;
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, pod.namespaceLabels)
    : pod.namespace === policyNamespace;
  return namespaceOk && selects(peer.podSelector ?? {}, pod.labels);
}

function portMatches(ports: PolicyPort[] | undefined, port: number, protocol: string): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((entry) => {
    if ((entry.protocol ?? "TCP") !== protocol) return false;
    if (entry.port === undefined) return true;
    if (typeof entry.port === "string")
      throw new Error(`named port ${entry.port}: give policies port numbers`);
    return entry.endPort === undefined ? entry.port === port : port >= entry.port && port <= entry.endPort;
  });
}

function allows(
  policies: NetworkPolicy[],
  direction: "Ingress" | "Egress",
  subject: Endpoint,
  peer: Endpoint,
  port: number,
  protocol: string,
): boolean {
  const pod = subject.pod;
  // Traffic of something that is not a pod here (an address, a pod of another namespace) is not
  // governed by these policies.
  if (!pod) return true;
  const selecting = policies.filter(
    (policy) =>
      policy.namespace === pod.namespace &&
      policy.policyTypes.includes(direction) &&
      selects(policy.podSelector, pod.labels),
  );
  if (selecting.length === 0) return true;
  return selecting.some((policy) =>
    (direction === "Ingress" ? policy.ingress : policy.egress).some((rule) => {
      const peers = direction === "Ingress" ? rule.from : rule.to;
      const peerOk =
        !peers || peers.length === 0 || peers.some((p) => peerMatches(p, policy.namespace, peer));
      return peerOk && portMatches(rule.ports, port, protocol);
    }),
  );
}

/** Whether the connection gets through: the client may send it and the server may receive it. */
export function connects(
  policies: NetworkPolicy[],
  { from, to, port, protocol = "TCP" }: Connection,
): boolean {
  return (
    allows(policies, "Egress", from, to, port, protocol) &&
    allows(policies, "Ingress", to, from, port, protocol)
  );
}

/** The NetworkPolicies among rendered manifests, in `namespace` unless they say otherwise. */
export function networkPolicies(manifests: Manifest[], namespace: string): NetworkPolicy[] {
  return manifests
    .filter((manifest) => manifest.kind === "NetworkPolicy")
    .map((manifest) => {
      const spec = manifest.spec as {
        podSelector: LabelSelector;
        policyTypes?: ("Ingress" | "Egress")[];
        ingress?: Rule[] | null;
        egress?: Rule[] | null;
      };
      const policyTypes =
        spec.policyTypes ?? (spec.egress ? (["Ingress", "Egress"] as const) : (["Ingress"] as const));
      return {
        namespace: (manifest.metadata as { namespace?: string }).namespace ?? namespace,
        name: manifest.metadata.name,
        podSelector: spec.podSelector,
        policyTypes: [...policyTypes],
        ingress: spec.ingress ?? [],
        egress: spec.egress ?? [],
      };
    });
}

/** The labels of every pod the manifests run (Deployments, StatefulSets, Jobs, CronJobs, Pods), by component. */
export function podLabels(manifests: Manifest[]): Map<string, Labels> {
  const pods = new Map<string, Labels>();
  for (const manifest of manifests) {
    const spec = manifest.spec as
      | {
          template?: { metadata?: { labels?: Labels } };
          jobTemplate?: { spec?: { template?: { metadata?: { labels?: Labels } } } };
        }
      | undefined;
    const labels =
      manifest.kind === "Pod"
        ? manifest.metadata.labels
        : manifest.kind === "CronJob"
          ? spec?.jobTemplate?.spec?.template?.metadata?.labels
          : ["Deployment", "StatefulSet", "Job", "DaemonSet"].includes(manifest.kind)
            ? spec?.template?.metadata?.labels
            : undefined;
    const component = labels?.["app.kubernetes.io/component"];
    if (labels && component) pods.set(component, labels);
  }
  return pods;
}
