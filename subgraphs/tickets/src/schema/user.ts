import { Directive, Field, ID, ObjectType } from "type-graphql";

/** A user as auth resolves it; tickets knows only the id of a ticket's seller. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType()
export class User {
  @Field(() => ID)
  id!: string;
}
