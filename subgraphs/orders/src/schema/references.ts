import { Directive, Field, ID, ObjectType } from "type-graphql";

/** A ticket as tickets resolves it; orders knows only the id of the ticket an order is for. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType()
export class Ticket {
  @Field(() => ID)
  id!: string;
}

/** A user as auth resolves it; orders knows only the id of an order's buyer. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType()
export class User {
  @Field(() => ID)
  id!: string;
}
