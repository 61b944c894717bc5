import { Directive, Field, ID, ObjectType } from "type-graphql";

/** An event as tickets resolves it; passes knows only the id of a pass's event. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType()
export class Event {
  @Field(() => ID)
  id!: string;
}

/** A ticket as tickets resolves it; passes knows only the id of the ticket a pass is for. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType()
export class Ticket {
  @Field(() => ID)
  id!: string;
}

/** A user as auth resolves it; passes knows only the ids of a pass's holders. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType()
export class User {
  @Field(() => ID)
  id!: string;
}
