import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseDockerfile } from "../src/dockerfile.js";
import { helmTemplate } from "../src/helm.js";
import { COMPONENTS, readRepoFile, repoRoot } from "../src/repo.js";
import { tools } from "./tools.js";

interface Skaffold {
  apiVersion: string;
  build: {
    artifacts: {
      image: string;
      context: string;
      docker: { dockerfile: string; target: string };
      sync: { manual: { src: string; dest: string }[] };
    }[];
  };
  deploy: {
    helm: {
      releases: {
        name: string;
        chartPath: string;
        valuesFiles: string[];
        setValueTemplates: Record<string, string>;
      }[];
    };
  };
  portForward: { resourceName: string; port: number }[];
}

const skaffold = () => parse(readRepoFile("skaffold.yaml")) as Skaffold;

describe("skaffold.yaml", () => {
  it("builds the dev stage of every deployable and syncs its TypeScript sources", () => {
    const config = skaffold();
    expect(config.apiVersion).toMatch(/^skaffold\/v4beta\d+$/);
    expect(config.build.artifacts.map((a) => a.image)).toEqual(
      Object.keys(COMPONENTS).map((c) => `ticketing-${c}`),
    );
    for (const [component, { dir }] of Object.entries(COMPONENTS)) {
      const artifact = config.build.artifacts.find((a) => a.image === `ticketing-${component}`)!;
      expect(artifact.context).toBe(".");
      expect(artifact.docker.dockerfile).toBe(`${dir}/Dockerfile`);
      const stages = parseDockerfile(readRepoFile(artifact.docker.dockerfile));
      const target = stages.find((s) => s.name === artifact.docker.target);
      expect(target?.instructions.find((i) => i.keyword === "WORKDIR")?.args).toBe(`/repo/${dir}`);
      expect(artifact.sync.manual).toEqual([{ src: `${dir}/src/**/*.ts`, dest: "/repo" }]);
    }
  });

  it("deploys the chart with the dev values and its images, which renders", () => {
    const [release] = skaffold().deploy.helm.releases;
    expect(release?.chartPath).toBe("helm");
    for (const file of release?.valuesFiles ?? []) expect(existsSync(join(repoRoot, file))).toBe(true);
    // Render with what skaffold fills in, to see that every value it sets lands on an image.
    const set = Object.fromEntries(
      Object.entries(release?.setValueTemplates ?? {}).map(([key, template]) => [
        key,
        template.replace(/\{\{\.IMAGE_(REPO|TAG)_(\w+)\}\}/, (_, kind: string, image: string) =>
          kind === "REPO" ? image.replace(/_/g, "-") : "dev1",
        ),
      ]),
    );
    expect(Object.keys(set)).toHaveLength(Object.keys(COMPONENTS).length * 2);
    const result = helmTemplate(tools().helm, {
      release: release?.name,
      valuesFiles: (release?.valuesFiles ?? []).map((file) => join(repoRoot, file)),
      set,
    });
    expect(result.stderr).toBe("");
    const images = result.manifests
      .filter((m) => m.kind === "Deployment")
      .flatMap(
        (m) =>
          (m as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec
            .template.spec.containers,
      )
      .map((c) => c.image);
    for (const component of Object.keys(COMPONENTS)) expect(images).toContain(`ticketing-${component}:dev1`);
    expect(skaffold().portForward).toEqual([
      expect.objectContaining({ resourceName: "ticketing-gateway", port: 4000 }),
    ]);
  });
});
