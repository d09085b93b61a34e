import { useState, type FormEvent } from 'react';
import { login, type Account } from './api';
import { ErrorText } from './ui';

export function Login({ onSignedIn }: { onSignedIn: (account: Account) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await login(email, password));
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form className="card" onSubmit={(event) => void submit(event)} data-testid="login-form">
        <h1>Herald</h1>
        <p className="muted">Sign in to the dashboard</p>
        <label>
          Email
          <input
            type="email"
            autoComplete="username"
            required
            data-testid="login-email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            data-testid="login-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorText error={error} testId="login-error" />
        <button type="submit" disabled={busy} data-testid="login-submit">
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
