import "reflect-metadata";
// Value types every subgraph shares. Object types are @shareable: several subgraphs resolve them.
import { Directive, Field, InputType, Int, ObjectType } from "type-graphql";

@Directive("@shareable")
@ObjectType({ description: "An amount in minor units (cents) of an upper-case ISO-4217 currency." })
export class Money {
  @Field(() => Int)
  amount!: number;

  @Field(() => String)
  currency!: string;
}

@InputType()
export class MoneyInput {
  @Field(() => Int, { description: "Minor units, 1 to 100000000." })
  amount!: number;

  @Field(() => String, { description: "USD, EUR, GBP, CHF, CAD or AUD." })
  currency!: string;
}

@Directive("@shareable")
@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}
