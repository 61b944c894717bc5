import { useId, useState, type FormEvent } from "react";
import { useApolloClient, useMutation } from "@apollo/client/react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { MeDocument, SignInDocument, SignUpDocument } from "../gql/graphql.js";
import { describeError, errorField } from "../lib/errors.js";
import { fieldText } from "../lib/forms.js";

/** Where to go after signing in: a path of this site only. */
function nextPath(params: URLSearchParams): string {
  const next = params.get("next");
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function Field(props: {
  label: string;
  name: string;
  type?: string;
  autoComplete: string;
  invalid: boolean;
  hint?: string;
  minLength?: number;
  maxLength?: number;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        autoComplete={props.autoComplete}
        required
        minLength={props.minLength}
        maxLength={props.maxLength}
        aria-invalid={props.invalid || undefined}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
      />
      {props.hint && (
        <small id={`${id}-hint`} className="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

function useAfterSignIn() {
  const client = useApolloClient();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  return async () => {
    // Everything cached so far was seen anonymously.
    await client.resetStore();
    await client.query({ query: MeDocument, fetchPolicy: "network-only" });
    void navigate(nextPath(params), { replace: true });
  };
}

export function SignInPage() {
  const [signIn, { loading }] = useMutation(SignInDocument);
  const [error, setError] = useState<unknown>();
  const done = useAfterSignIn();
  const [params] = useSearchParams();

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(undefined);
    try {
      await signIn({
        variables: { input: { email: fieldText(form, "email"), password: fieldText(form, "password") } },
      });
      await done();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section className="page narrow">
      <h1>Sign in</h1>
      <form onSubmit={(event) => void onSubmit(event)} noValidate={false}>
        <Field label="Email" name="email" type="email" autoComplete="email" invalid={!!error} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          invalid={!!error}
        />
        {error !== undefined && (
          <p className="error" role="alert">
            {describeError(error, "signIn")}
          </p>
        )}
        <button type="submit" className="primary" disabled={loading}>
          {loading ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link to={`/signup?${params.toString()}`}>Create an account</Link>
      </p>
    </section>
  );
}

export function SignUpPage() {
  const [signUp, { loading }] = useMutation(SignUpDocument);
  const [error, setError] = useState<unknown>();
  const done = useAfterSignIn();
  const [params] = useSearchParams();
  const field = errorField(error);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(undefined);
    try {
      await signUp({
        variables: {
          input: {
            displayName: fieldText(form, "displayName").trim(),
            email: fieldText(form, "email").trim(),
            password: fieldText(form, "password"),
          },
        },
      });
      await done();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section className="page narrow">
      <h1>Create an account</h1>
      <form onSubmit={(event) => void onSubmit(event)}>
        <Field
          label="Your name"
          name="displayName"
          autoComplete="nickname"
          maxLength={50}
          invalid={field === "displayName"}
          hint="Shown to buyers of your tickets."
        />
        <Field label="Email" name="email" type="email" autoComplete="email" invalid={field === "email"} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          minLength={8}
          maxLength={128}
          invalid={field === "password"}
          hint="At least 8 characters."
        />
        {error !== undefined && (
          <p className="error" role="alert">
            {describeError(error, "signUp")}
          </p>
        )}
        <button type="submit" className="primary" disabled={loading}>
          {loading ? "Creating your account…" : "Sign up"}
        </button>
      </form>
      <p>
        Already have an account? <Link to={`/signin?${params.toString()}`}>Sign in</Link>
      </p>
    </section>
  );
}
