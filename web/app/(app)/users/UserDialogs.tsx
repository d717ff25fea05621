'use client';

import Visibility from '@mui/icons-material/Visibility';
import VisibilityOff from '@mui/icons-material/VisibilityOff';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControl from '@mui/material/FormControl';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormLabel from '@mui/material/FormLabel';
import IconButton from '@mui/material/IconButton';
import InputAdornment from '@mui/material/InputAdornment';
import Radio from '@mui/material/Radio';
import RadioGroup from '@mui/material/RadioGroup';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { api } from '@/lib/api';
import { fieldErrors } from '@/lib/field-errors';
import { ROLES, type Role, type User } from '@/lib/types';

const ROLE_HELP: Record<Role, string> = {
  viewer: 'Reads agents, metrics and alerts. Changes nothing.',
  operator: 'Viewer, plus managing agents, groups, configs, rollouts, alert rules and channels.',
  admin: 'Everything, including users, every API key and the audit log.',
};

export function RoleRadios({ value, onChange, error, disabled }: { value: Role; onChange: (r: Role) => void; error?: string; disabled?: boolean }) {
  const labelId = useId();
  return (
    <FormControl error={!!error} disabled={disabled}>
      <FormLabel id={labelId} sx={{ mb: 0.5 }}>
        Role
      </FormLabel>
      <RadioGroup aria-labelledby={labelId} value={value} onChange={(e) => onChange(e.target.value as Role)}>
        {ROLES.map((r) => (
          <FormControlLabel
            key={r}
            value={r}
            control={<Radio size="small" />}
            sx={{ alignItems: 'flex-start', mb: 0.5, '& .MuiRadio-root': { pt: 0.25 } }}
            label={
              <Box>
                <Typography sx={{ textTransform: 'capitalize', fontWeight: 600 }}>{r}</Typography>
                <Typography variant="body2" sx={{ color: 'text.secondary' }}>
                  {ROLE_HELP[r]}
                </Typography>
              </Box>
            }
          />
        ))}
      </RadioGroup>
      {error && (
        <Typography variant="caption" color="error" role="alert">
          {error}
        </Typography>
      )}
    </FormControl>
  );
}

export function PasswordField({
  label,
  value,
  onChange,
  error,
  helperText,
  autoComplete = 'new-password',
  autoFocus,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  helperText?: string;
  autoComplete?: string;
  autoFocus?: boolean;
}) {
  const [shown, setShown] = useState(false);
  return (
    <TextField
      label={label}
      type={shown ? 'text' : 'password'}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      error={!!error}
      helperText={error ?? helperText}
      autoComplete={autoComplete}
      autoFocus={autoFocus}
      fullWidth
      slotProps={{
        input: {
          endAdornment: (
            <InputAdornment position="end">
              <IconButton aria-label={shown ? `Hide ${label.toLowerCase()}` : `Show ${label.toLowerCase()}`} onClick={() => setShown((v) => !v)} edge="end" size="small">
                {shown ? <VisibilityOff fontSize="small" /> : <Visibility fontSize="small" />}
              </IconButton>
            </InputAdornment>
          ),
        },
      }}
    />
  );
}

/** A dialog whose body is a form: submit on Enter, a busy button, and an error that names no field. */
function FormDialog({
  open,
  title,
  submitLabel,
  busy,
  error,
  onSubmit,
  onClose,
  children,
  testId,
}: {
  open: boolean;
  title: string;
  submitLabel: string;
  busy: boolean;
  error: string | null;
  onSubmit: () => void;
  onClose: () => void;
  children: ReactNode;
  testId?: string;
}) {
  const titleId = useId();
  return (
    <Dialog open={open} onClose={busy ? undefined : onClose} aria-labelledby={titleId} maxWidth="sm" fullWidth data-testid={testId}>
      <Box
        component="form"
        noValidate
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          onSubmit();
        }}
      >
        <DialogTitle id={titleId}>{title}</DialogTitle>
        <DialogContent sx={{ display: 'flex', flexDirection: 'column', gap: 2.5, pt: '8px !important' }}>
          {error && (
            <Alert severity="error" data-testid="form-error">
              {error}
            </Alert>
          )}
          {children}
        </DialogContent>
        <DialogActions sx={{ px: 3, pb: 2 }}>
          <Button onClick={onClose} disabled={busy} color="inherit">
            Cancel
          </Button>
          <Button type="submit" variant="contained" disabled={busy} startIcon={busy ? <CircularProgress size={16} color="inherit" aria-hidden /> : undefined}>
            {submitLabel}
          </Button>
        </DialogActions>
      </Box>
    </Dialog>
  );
}

const CREATE_FIELDS = ['username', 'email', 'password', 'role'] as const;

export function CreateUserDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (u: User) => void }) {
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const reset = () => {
    setUsername('');
    setEmail('');
    setPassword('');
    setRole('viewer');
    setErrors({});
    setError(null);
  };
  const close = () => {
    reset();
    onClose();
  };

  const submit = async () => {
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      // The API validates (username pattern, e-mail, password policy); its answer is shown on the fields.
      const user = await api<User>('/api/v2/users', { method: 'POST', body: { username: username.trim(), email: email.trim(), password, role } });
      reset();
      onCreated(user);
    } catch (err) {
      const { byField, rest } = fieldErrors(err, CREATE_FIELDS);
      setErrors(byField);
      setError(rest);
    } finally {
      setBusy(false);
    }
  };

  return (
    <FormDialog open={open} title="New user" submitLabel="Create user" busy={busy} error={error} onSubmit={submit} onClose={close} testId="create-user-dialog">
      <TextField
        label="Username"
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        error={!!errors.username}
        helperText={errors.username ?? 'Letters, digits and . _ @ -'}
        autoComplete="off"
        autoFocus
        fullWidth
      />
      <TextField
        label="Email"
        type="email"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        error={!!errors.email}
        helperText={errors.email}
        autoComplete="off"
        fullWidth
      />
      <PasswordField label="Password" value={password} onChange={setPassword} error={errors.password} helperText="At least 12 characters. Share it with the user over a safe channel." />
      <RoleRadios value={role} onChange={setRole} error={errors.role} />
    </FormDialog>
  );
}

export function ChangeRoleDialog({ user, onClose, onSaved }: { user: User | null; onClose: () => void; onSaved: (u: User) => void }) {
  const [role, setRole] = useState<Role | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const value = role ?? user?.role ?? 'viewer';
  const close = () => {
    setRole(null);
    setError(null);
    onClose();
  };
  const submit = async () => {
    if (!user) return;
    if (value === user.role) return close();
    setBusy(true);
    setError(null);
    try {
      const saved = await api<User>(`/api/v2/users/${encodeURIComponent(user.id)}`, { method: 'PATCH', body: { role: value } });
      setRole(null);
      onSaved(saved);
    } catch (err) {
      setError(fieldErrors(err, ['role']).byField.role ?? fieldErrors(err, []).rest);
    } finally {
      setBusy(false);
    }
  };
  return (
    <FormDialog open={user !== null} title={`Change the role of ${user?.username ?? ''}`} submitLabel="Save role" busy={busy} error={error} onSubmit={submit} onClose={close} testId="role-dialog">
      <RoleRadios value={value} onChange={setRole} />
      <Alert severity="info" variant="outlined">
        A new role ends {user?.username ?? 'the user'}’s sessions: they sign in again and get the new rights at once. Their API keys never exceed the new role.
      </Alert>
    </FormDialog>
  );
}

export function SetPasswordDialog({ user, isSelf, onClose, onSaved }: { user: User | null; isSelf: boolean; onClose: () => void; onSaved: (u: User) => void }) {
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => {
    setPassword('');
    setConfirm('');
    setErrors({});
    setError(null);
    onClose();
  };
  const submit = async () => {
    if (!user) return;
    setErrors({});
    setError(null);
    if (password !== confirm) {
      setErrors({ confirm: 'does not match the new password' });
      return;
    }
    setBusy(true);
    try {
      const saved = await api<User>(`/api/v2/users/${encodeURIComponent(user.id)}`, { method: 'PATCH', body: { password } });
      setPassword('');
      setConfirm('');
      onSaved(saved);
    } catch (err) {
      const { byField, rest } = fieldErrors(err, ['password']);
      setErrors(byField);
      setError(rest);
    } finally {
      setBusy(false);
    }
  };
  return (
    <FormDialog open={user !== null} title={`Set a new password for ${user?.username ?? ''}`} submitLabel="Set password" busy={busy} error={error} onSubmit={submit} onClose={close} testId="password-dialog">
      <PasswordField label="New password" value={password} onChange={setPassword} error={errors.password} helperText="At least 12 characters." autoFocus />
      <PasswordField label="Repeat the new password" value={confirm} onChange={setConfirm} error={errors.confirm} />
      <Alert severity="warning" variant="outlined">
        {isSelf ? 'This ends all your sessions, including this one: you will sign in again with the new password.' : `This ends all of ${user?.username ?? 'the user'}’s sessions.`}
      </Alert>
    </FormDialog>
  );
}
