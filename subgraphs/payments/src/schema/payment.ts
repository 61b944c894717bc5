import { DateTimeScalar, Money, unauthenticated, type Viewer } from "@ticketing/shared-runtime";
import {
  Arg,
  Authorized,
  Ctx,
  Directive,
  Field,
  FieldResolver,
  ID,
  Mutation,
  ObjectType,
  Query,
  registerEnumType,
  Resolver,
  Root,
} from "type-graphql";
import type { PaymentState } from "../domain/payments.js";
import type { StartedPayment } from "../payments.js";
import type { PaymentsContext } from "./context.js";

export enum PaymentStatus {
  PENDING = "PENDING",
  SUCCEEDED = "SUCCEEDED",
  REFUNDED = "REFUNDED",
  FAILED = "FAILED",
}

registerEnumType(PaymentStatus, { name: "PaymentStatus" });

/** An order as orders resolves it; payments adds its `payment`. */
@Directive('@key(fields: "id")')
@ObjectType()
export class Order {
  @Field(() => ID)
  id!: string;
}

@ObjectType({ description: "The payment of an order: one Stripe PaymentIntent, and what became of it." })
export class Payment {
  @Field(() => ID)
  id!: string;

  @Field(() => PaymentStatus, {
    description: "PENDING until Stripe says; SUCCEEDED, FAILED (can still be paid), or REFUNDED.",
  })
  status!: PaymentStatus;

  @Field(() => Money, { description: "The order's total: what the PaymentIntent is for." })
  amount!: Money;

  @Field(() => String)
  paymentIntentId!: string;

  @Field(() => DateTimeScalar)
  createdAt!: string;

  @Field(() => DateTimeScalar)
  updatedAt!: string;

  @Field(() => Money, { nullable: true, description: "What Stripe says it took, once it did." })
  received!: Money | null;
}

@ObjectType({ description: "What the SPA needs to collect the payment with Stripe.js." })
export class PaymentStart {
  @Field(() => ID)
  paymentIntentId!: string;

  @Field(() => String)
  clientSecret!: string;

  @Field(() => Money)
  amount!: Money;

  @Field(() => Payment)
  payment!: Payment;
}

function signedIn(viewer: Viewer) {
  if (!viewer) throw unauthenticated();
  return viewer;
}

const startOf = ({ payment, clientSecret }: StartedPayment) => ({
  paymentIntentId: payment.paymentIntentId,
  clientSecret,
  amount: payment.amount,
  payment,
});

@Resolver(() => Payment)
export class PaymentResolver {
  @Authorized()
  @Query(() => Payment, {
    nullable: true,
    description:
      "An order's payment, for its buyer or OPS (FORBIDDEN for anyone else); null when there is none.",
  })
  payment(
    @Arg("orderId", () => ID) orderId: string,
    @Ctx() { payments, viewer }: PaymentsContext,
  ): Promise<PaymentState | null> {
    return payments.payment(signedIn(viewer), orderId);
  }

  @Authorized()
  @Mutation(() => PaymentStart, {
    description:
      "The buyer, an order AWAITING_PAYMENT before expiresAt: creates its PaymentIntent for exactly the total, or returns the same one again.",
  })
  async startPayment(
    @Arg("orderId", () => ID) orderId: string,
    @Ctx() { payments, viewer, requestId }: PaymentsContext,
  ): Promise<ReturnType<typeof startOf>> {
    return startOf(await payments.start(signedIn(viewer), orderId, requestId));
  }

  @Authorized()
  @Mutation(() => Payment, {
    description:
      "Sandbox mode only (FORBIDDEN otherwise), the buyer only: delivers a signed payment_intent.succeeded webhook for the order's intent.",
  })
  confirmSandboxPayment(
    @Arg("orderId", () => ID) orderId: string,
    @Ctx() { payments, viewer, requestId }: PaymentsContext,
  ): Promise<PaymentState> {
    return payments.confirmSandbox(signedIn(viewer), orderId, requestId);
  }

  @FieldResolver(() => Order)
  order(@Root() payment: PaymentState): Order {
    return { id: payment.orderId };
  }
}

@Resolver(() => Order)
export class OrderPaymentResolver {
  @FieldResolver(() => Payment, {
    nullable: true,
    description: "Its payment, once one was started; only the buyer and OPS see it.",
  })
  payment(@Root() order: Order, @Ctx() { payments, viewer }: PaymentsContext): Promise<PaymentState | null> {
    return payments.visiblePayment(viewer, order.id);
  }
}

/** Orders are orders' own; payments knows any order id it is asked about. */
export const orderReference = {
  __resolveReference: (reference: Record<string, unknown>) =>
    typeof reference.id === "string" ? { id: reference.id } : null,
};

@Resolver(() => Payment)
export class PaymentReceiptResolver {
  @FieldResolver(() => DateTimeScalar, {
    nullable: true,
    description: "When Stripe confirmed the payment, while it is SUCCEEDED; null otherwise.",
  })
  paidAt(@Root() payment: PaymentState): string | null {
    return payment.status === "SUCCEEDED" ? payment.updatedAt : null;
  }

  @FieldResolver(() => String, {
    description:
      "How it is paid, in words for a receipt: through Stripe, or in sandbox mode through Stripe's test mock (no real money).",
  })
  method(@Ctx() { payments }: PaymentsContext): string {
    return payments.sandbox ? "Stripe (sandbox: no real money moved)" : "Stripe";
  }
}
