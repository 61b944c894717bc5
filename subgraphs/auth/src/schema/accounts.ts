import { Arg, Ctx, Field, InputType, Mutation, Resolver } from "type-graphql";
import type { AuthContext } from "./context.js";
import { User, type UserView } from "./user.js";

@InputType()
export class SignUpInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, { description: "8 to 128 characters." })
  password!: string;

  @Field(() => String, { description: "1 to 50 characters, trimmed." })
  displayName!: string;
}

@InputType()
export class SignInInput {
  @Field(() => String)
  email!: string;

  @Field(() => String)
  password!: string;
}

@Resolver()
export class AccountResolver {
  @Mutation(() => User, { description: "Creates an account and signs it in." })
  async signUp(
    @Arg("input", () => SignUpInput) input: SignUpInput,
    @Ctx() { accounts, handoff, requestId }: AuthContext,
  ): Promise<UserView> {
    const session = await accounts.signUp(input, requestId);
    handoff.set(session.token, session.expiresAt);
    return { ...session.user, ownSession: true };
  }

  @Mutation(() => User)
  async signIn(
    @Arg("input", () => SignInInput) input: SignInInput,
    @Ctx() { accounts, handoff, clientAddress, requestId }: AuthContext,
  ): Promise<UserView> {
    const session = await accounts.signIn(input, { clientAddress, requestId });
    handoff.set(session.token, session.expiresAt);
    return { ...session.user, ownSession: true };
  }

  @Mutation(() => Boolean, { description: "Ends the viewer's session; true also when nobody was signed in." })
  async signOut(@Ctx() { accounts, handoff, viewer, requestId }: AuthContext): Promise<boolean> {
    await accounts.signOut(viewer, requestId);
    handoff.clear();
    return true;
  }
}
