import { Arg, Ctx, Field, Mutation, ObjectType, Resolver } from "type-graphql";
import type { ResetRequested } from "../password-resets.js";
import type { AuthContext } from "./context.js";

@ObjectType({ description: "The answer to a password reset request: the same for every email." })
export class PasswordResetRequested implements ResetRequested {
  @Field(() => String)
  message!: string;

  @Field(() => String, {
    nullable: true,
    description: "Outside production only: where the link went when no mail server is configured.",
  })
  developmentNote!: string | null;
}

@Resolver()
export class PasswordResetResolver {
  @Mutation(() => PasswordResetRequested, {
    description:
      "Sends a link to choose a new password (valid 30 minutes by default, once) to the account with this email, if there is one; answers the same either way.",
  })
  requestPasswordReset(
    @Arg("email", () => String) email: string,
    @Ctx() { passwordResets, clientAddress, requestId }: AuthContext,
  ): Promise<ResetRequested> {
    return passwordResets.request(email, { clientAddress, requestId });
  }

  @Mutation(() => Boolean, {
    description:
      "Sets a new password (8 to 128 characters) with a reset link's token and ends every session of the account. BAD_USER_INPUT on `token` when it is unknown, used or expired.",
  })
  async resetPassword(
    @Arg("token", () => String) token: string,
    @Arg("password", () => String) password: string,
    @Ctx() { passwordResets, requestId }: AuthContext,
  ): Promise<boolean> {
    await passwordResets.reset(token, password, requestId);
    return true;
  }
}
