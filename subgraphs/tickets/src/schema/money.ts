import { Field, InputType, Int, ObjectType } from "type-graphql";

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
