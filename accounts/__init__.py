"""Sign-in and sessions (issue 8): two-factor sign-in, recovery codes, lock-out, session lifetime."""
