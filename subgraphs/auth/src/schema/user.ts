import {
  Ctx,
  Directive,
  Field,
  FieldResolver,
  ID,
  ObjectType,
  Query,
  registerEnumType,
  Resolver,
  Root,
} from "type-graphql";
import type { UserState } from "../domain/users.js";
import type { AuthContext } from "./context.js";

export enum Role {
  USER = "USER",
  OPS = "OPS",
  STAFF = "STAFF",
}

registerEnumType(Role, { name: "Role" });

@Directive('@key(fields: "id")')
@ObjectType({ description: "A person with an account." })
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String, {
    nullable: true,
    description: "Only the user themself and OPS see it; null for anyone else.",
  })
  email?: string | null;

  @Field(() => String)
  displayName!: string;

  @Field(() => [Role])
  roles!: Role[];
}

/** A user as resolvers return it. */
export interface UserView extends UserState {
  /** Returned by signUp/signIn to the person who just proved to be this user, though not yet the viewer. */
  ownSession?: boolean;
}

export function canSeeEmail(user: UserView, viewer: AuthContext["viewer"]): boolean {
  if (user.ownSession) return true;
  return viewer !== null && (viewer.userId === user.id || viewer.roles.includes("OPS"));
}

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { nullable: true, description: "The signed-in user; null when anonymous." })
  async me(@Ctx() { viewer, user }: AuthContext): Promise<UserState | null> {
    return viewer ? user(viewer.userId) : null;
  }

  @FieldResolver(() => String, { nullable: true })
  email(@Root() user: UserView, @Ctx() { viewer }: AuthContext): string | null {
    return canSeeEmail(user, viewer) ? user.email : null;
  }

  /** Shown as the email is: anyone's roles would tell who holds OPS (a seller may). */
  @FieldResolver(() => [Role])
  roles(@Root() user: UserView, @Ctx() { viewer }: AuthContext): UserView["roles"] {
    return canSeeEmail(user, viewer) ? user.roles : [];
  }
}

/** Other subgraphs refer to users by id; one that does not exist resolves to null. */
export const userReference = {
  __resolveReference: (reference: Record<string, unknown>, { user }: AuthContext) =>
    typeof reference.id === "string" ? user(reference.id) : null,
};
