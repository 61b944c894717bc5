// `helm test`: a hook Pod that checks the gateway's /readyz and runs the public contract's
// Events query, in the gateway's image, as the components run (non-root, same securityContext).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { find, helmTemplate, type Manifest } from "../src/helm.js";
import { validateManifests } from "../src/kube-schema.js";
import { chartDir, repoRoot } from "../src/repo.js";
import { run } from "../src/tools.js";
import { tools } from "./tools.js";

const production = {
  valuesFiles: [join(repoRoot, "tooling", "deploy-check", "fixtures", "values-production.yaml")],
};
const script = readFileSync(join(chartDir, "files", "test-gateway.mjs"), "utf8");

interface Container {
  image: string;
  command: string[];
  env: { name: string; value: string }[];
  securityContext: unknown;
}
interface Pod extends Manifest {
  spec: { restartPolicy: string; securityContext: unknown; containers: Container[] };
}
interface Deployment extends Manifest {
  spec: { template: { spec: { securityContext: unknown; containers: Container[] } } };
}

function rendered() {
  const result = helmTemplate(tools().helm, production);
  if (!result.ok) throw new Error(`helm template failed:\n${result.stderr}`);
  return {
    all: result.manifests,
    pod: find(result.manifests, "Pod", "ticketing-test-gateway") as Pod,
    gateway: find(result.manifests, "Deployment", "ticketing-gateway") as Deployment,
  };
}

describe("helm test", () => {
  it("is a test hook Pod, valid for the Kubernetes API", async () => {
    const { pod } = rendered();
    expect(pod.metadata.annotations?.["helm.sh/hook"]).toBe("test");
    expect(pod.spec.restartPolicy).toBe("Never");
    expect(await validateManifests([pod])).toEqual([]);
  });

  it("runs as the gateway does: its image, non-root, the components' securityContext", () => {
    const { pod, gateway } = rendered();
    const [test] = pod.spec.containers;
    const [component] = gateway.spec.template.spec.containers;
    expect(test?.image).toBe(component?.image);
    expect(pod.spec.securityContext).toEqual(gateway.spec.template.spec.securityContext);
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(test?.securityContext).toEqual(component?.securityContext);
    expect(test?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
  });

  it("checks /readyz and runs the contract's Events query against the gateway's Service", () => {
    const [test] = rendered().pod.spec.containers;
    expect(test?.command.slice(0, 3)).toEqual(["node", "--input-type=module", "--eval"]);
    expect(test?.command[3]).toBe(script);
    // Kubernetes expands $(NAME) in a container's command: the script must hold none.
    expect(script).not.toContain("$(");
    expect(test?.env).toEqual([{ name: "GATEWAY_URL", value: "http://ticketing-gateway:4000" }]);
    expect(script).toContain("`${base}/readyz`");
    // The query is the public contract's own document, as the SPA has it.
    const contract = readFileSync(
      join(repoRoot, "web", "src", "graphql", "operations", "contract.graphql"),
      "utf8",
    );
    const query = /const EVENTS = `([^`]+)`/.exec(script)?.[1];
    const squash = (text: string) => text.replace(/\s+/g, " ").trim();
    expect(query).toMatch(/^query Events\(/);
    expect(squash(contract)).toContain(squash(query!));
  });

  it("fails, saying why, when the gateway does not answer", () => {
    // Nothing listens on the discard port of this machine.
    const result = run("node", ["--input-type=module", "--eval", script], {
      env: { ...process.env, GATEWAY_URL: "http://127.0.0.1:9", READY_WITHIN_SECONDS: "0" },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^FAIL GET http:\/\/127\.0\.0\.1:9\/readyz: /);
  });

  it("is left out with the gateway", () => {
    const result = helmTemplate(tools().helm, {
      ...production,
      setJson: { "components.gateway.enabled": false },
    });
    expect(result.ok).toBe(true);
    expect(result.manifests.filter((m) => m.kind === "Pod")).toEqual([]);
  });
});
