// Real Stripe: Elements confirming the PaymentIntent's client secret. Loaded only with a
// publishable key configured; the order page then follows the order to COMPLETE.
import { useMemo, useState, type FormEvent } from "react";
import { loadStripe } from "@stripe/stripe-js";
import { Elements, PaymentElement, useElements, useStripe } from "@stripe/react-stripe-js";

interface Props {
  publishableKey: string;
  clientSecret: string;
  onPaid: () => void;
}

export default function StripeCheckout({ publishableKey, clientSecret, onPaid }: Props) {
  const stripe = useMemo(() => loadStripe(publishableKey), [publishableKey]);
  return (
    <Elements stripe={stripe} options={{ clientSecret }}>
      <CardForm onPaid={onPaid} />
    </Elements>
  );
}

function CardForm({ onPaid }: { onPaid: () => void }) {
  const stripe = useStripe();
  const elements = useElements();
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (!stripe || !elements) return;
    setBusy(true);
    setProblem(undefined);
    const result = await stripe.confirmPayment({ elements, redirect: "if_required" });
    setBusy(false);
    if (result.error)
      setProblem(result.error.message ?? "Your card was not accepted. Please try another one.");
    else onPaid();
  };

  return (
    <form onSubmit={(event) => void onSubmit(event)}>
      <PaymentElement />
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <button type="submit" className="primary" disabled={!stripe || busy}>
        {busy ? "Paying…" : "Pay"}
      </button>
    </form>
  );
}
