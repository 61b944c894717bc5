import type { InfraUrls } from "@ticketing/infra";

// What the infra globalSetup hands to tests through vitest's provide/inject.
declare module "vitest" {
  export interface ProvidedContext {
    infra: InfraUrls;
  }
}
