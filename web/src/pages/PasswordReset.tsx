// A forgotten password: ask for a link by email, then choose a new password on the link's page.
import { useId, useState, type FormEvent } from "react";
import { useApolloClient, useMutation } from "@apollo/client/react";
import { Link, useSearchParams } from "react-router";
import { RequestPasswordResetDocument, ResetPasswordDocument } from "../gql/graphql.js";
import { describeError, errorField } from "../lib/errors.js";
import { fieldText } from "../lib/forms.js";

export function ForgotPasswordPage() {
  const [request, { loading }] = useMutation(RequestPasswordResetDocument);
  const [error, setError] = useState<unknown>();
  const [sent, setSent] = useState<{ message: string; developmentNote?: string | null }>();
  const emailId = useId();

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const email = fieldText(new FormData(event.currentTarget), "email").trim();
    setError(undefined);
    try {
      const result = await request({ variables: { email } });
      if (result.data) setSent(result.data.requestPasswordReset);
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section className="page narrow">
      <h1>Reset your password</h1>
      {sent ? (
        <div role="status">
          <p className="success">{sent.message}</p>
          <p>The link works for 30 minutes, once. Didn't get it? Check your spam folder, or ask again.</p>
          {sent.developmentNote && <p className="notice dev-note">Development: {sent.developmentNote}</p>}
        </div>
      ) : (
        <form onSubmit={(event) => void onSubmit(event)}>
          <p>Enter the email of your account and we'll send you a link to choose a new password.</p>
          <div className="field">
            <label htmlFor={emailId}>Email</label>
            <input id={emailId} name="email" type="email" autoComplete="email" required />
          </div>
          {error !== undefined && (
            <p className="error" role="alert">
              {describeError(error, "load")}
            </p>
          )}
          <button type="submit" className="primary" disabled={loading}>
            {loading ? "Sending…" : "Send the link"}
          </button>
        </form>
      )}
      <p>
        <Link to="/signin">Back to signing in</Link>
      </p>
    </section>
  );
}

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const client = useApolloClient();
  const [reset, { loading }] = useMutation(ResetPasswordDocument);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState(false);
  const passwordId = useId();
  const field = errorField(error);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const password = fieldText(new FormData(event.currentTarget), "password");
    setError(undefined);
    try {
      await reset({ variables: { token, password } });
      // Every session of the account ended, this browser's too.
      await client.clearStore();
      setDone(true);
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section className="page narrow">
      <h1>Choose a new password</h1>
      {done ? (
        <div role="status">
          <p className="success">Your password is changed. You were signed out everywhere.</p>
          <p>
            <Link className="button primary" to="/signin">
              Sign in
            </Link>
          </p>
        </div>
      ) : (
        <form
          onSubmit={(event) => void onSubmit(event)}
          onChange={() => field === "password" && setError(undefined)}
        >
          <div className="field">
            <label htmlFor={passwordId}>New password</label>
            <input
              id={passwordId}
              name="password"
              type="password"
              autoComplete="new-password"
              required
              minLength={8}
              maxLength={128}
              aria-invalid={field === "password" || undefined}
              aria-describedby={`${passwordId}-hint`}
            />
            <small id={`${passwordId}-hint`} className="hint">
              At least 8 characters.
            </small>
          </div>
          {error !== undefined && (
            <p className="error" role="alert">
              {describeError(error, "resetPassword")}{" "}
              {field === "token" && <Link to="/forgot-password">Ask for a new link</Link>}
            </p>
          )}
          <button type="submit" className="primary" disabled={loading || !token}>
            {loading ? "Saving…" : "Save the new password"}
          </button>
          {!token && <p className="error">This page needs the link from the email.</p>}
        </form>
      )}
    </section>
  );
}
