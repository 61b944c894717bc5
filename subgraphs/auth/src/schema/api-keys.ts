import {
  Arg,
  Authorized,
  Ctx,
  Field,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from "type-graphql";
import { DateTimeScalar } from "@ticketing/shared-runtime";
import type { ApiKeyState } from "../domain/api-keys.js";
import type { AuthContext } from "./context.js";

@ObjectType({ description: "A partner's key for the public graph, sent in the `x-api-key` header." })
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "Who the key is for, as OPS named it." })
  name!: string;

  @Field(() => String, { description: "The key's visible beginning (`tkt_<id>`), to recognise it in logs." })
  prefix!: string;

  @Field(() => Int, {
    nullable: true,
    description: "The key's own rate limit; null means the gateway's default for keys.",
  })
  requestsPerMinute!: number | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType()
export class CreatedApiKey {
  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field(() => String, { description: "The key itself. Shown this once: only its hash is kept." })
  key!: string;
}

@InputType()
export class CreateApiKeyInput {
  @Field(() => String, { description: "1 to 80 characters: the partner and what the key is for." })
  name!: string;

  @Field(() => Int, { nullable: true, description: "1 to 100000; omitted: the gateway's default for keys." })
  requestsPerMinute?: number | null;
}

function view(key: ApiKeyState): ApiKey {
  return {
    id: key.id,
    name: key.name,
    prefix: `tkt_${key.id}`,
    requestsPerMinute: key.requestsPerMinute,
    createdAt: new Date(key.createdAt),
    revokedAt: key.revokedAt === null ? null : new Date(key.revokedAt),
  };
}

@Resolver()
export class ApiKeyResolver {
  @Authorized("OPS")
  @Query(() => [ApiKey], { description: "Every API key, newest first, revoked ones included. OPS only." })
  async apiKeys(@Ctx() { apiKeys }: AuthContext): Promise<ApiKey[]> {
    return (await apiKeys.list()).map(view);
  }

  @Authorized("OPS")
  @Mutation(() => CreatedApiKey, { description: "Creates a key for a partner. OPS only." })
  async createApiKey(
    @Arg("input", () => CreateApiKeyInput) input: CreateApiKeyInput,
    @Ctx() { apiKeys, viewer, requestId }: AuthContext,
  ): Promise<CreatedApiKey> {
    const created = await apiKeys.create(input, viewer!, requestId);
    return { apiKey: view(created.apiKey), key: created.key };
  }

  @Authorized("OPS")
  @Mutation(() => ApiKey, { description: "Revokes a key: the gateway refuses it from then on. OPS only." })
  async revokeApiKey(
    @Arg("id", () => ID) id: string,
    @Ctx() { apiKeys, viewer, requestId }: AuthContext,
  ): Promise<ApiKey> {
    return view(await apiKeys.revoke(id, viewer!, requestId));
  }
}
