import { badUserInput, hasBidiControl, showsNothing } from "@ticketing/shared-runtime";

export const EMAIL_MAX_LENGTH = 254;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;
export const DISPLAY_NAME_MAX_LENGTH = 50;

// Deliberately loose (RFC 5322 admits far more): one @, no spaces, a dot in the domain.
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;
// eslint-disable-next-line no-control-regex -- exactly what is being refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Lengths in characters as people count them, not UTF-16 code units. */
const length = (value: string) => [...value].length;

/** The email as stored and compared: trimmed and lower-cased, so uniqueness ignores case. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function isValidEmail(normalised: string): boolean {
  return normalised.length <= EMAIL_MAX_LENGTH && EMAIL.test(normalised) && !CONTROL.test(normalised);
}

export interface SignUpFields {
  email: string;
  password: string;
  displayName: string;
}

/** The sign-up input, normalised; throws BAD_USER_INPUT naming the first offending field. */
export function validateSignUp(input: SignUpFields): SignUpFields {
  const email = normaliseEmail(input.email);
  if (!isValidEmail(email)) throw badUserInput("Enter a valid email address", "email");

  validatePassword(input.password);

  // A name that shows nothing is blank; one that reorders itself could pass for another's.
  const displayName = showsNothing(input.displayName) ? "" : input.displayName.trim();
  const nameLength = length(displayName);
  if (
    nameLength < 1 ||
    nameLength > DISPLAY_NAME_MAX_LENGTH ||
    CONTROL.test(displayName) ||
    hasBidiControl(displayName)
  ) {
    throw badUserInput(
      `The display name must be 1 to ${DISPLAY_NAME_MAX_LENGTH} characters long, without control characters`,
      "displayName",
    );
  }
  return { email, password: input.password, displayName };
}

/** A password as sign-up and a reset take it: 8 to 128 characters. */
export function validatePassword(password: string, field = "password"): string {
  const passwordLength = length(password);
  if (passwordLength < PASSWORD_MIN_LENGTH || passwordLength > PASSWORD_MAX_LENGTH) {
    throw badUserInput(
      `The password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`,
      field,
    );
  }
  return password;
}
