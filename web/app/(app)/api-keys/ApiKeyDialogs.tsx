'use client';

import CheckIcon from '@mui/icons-material/Check';
import ContentCopyIcon from '@mui/icons-material/ContentCopy';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import CircularProgress from '@mui/material/CircularProgress';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import FormControl from '@mui/material/FormControl';
import FormControlLabel from '@mui/material/FormControlLabel';
import FormGroup from '@mui/material/FormGroup';
import FormHelperText from '@mui/material/FormHelperText';
import FormLabel from '@mui/material/FormLabel';
import MenuItem from '@mui/material/MenuItem';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import { useId, useRef, useState, type FormEvent } from 'react';
import { api } from '@/lib/api';
import { fieldErrors } from '@/lib/field-errors';
import { MONO_STACK } from '@/lib/theme';
import { PERMISSIONS, rolePermissions, type CreatedApiKey, type Permission, type Role } from '@/lib/types';

export const PERMISSION_HELP: Record<Permission, string> = {
  read: 'Read everything a viewer may read',
  write: 'Change what an operator may change',
  'ingest:write': 'Push telemetry and read its own agent’s config (for agents)',
  admin: 'Everything an admin may do',
};

const EXPIRY_CHOICES = [
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: 'custom', label: 'On a date…' },
  { value: 'never', label: 'Never' },
] as const;
type Expiry = (typeof EXPIRY_CHOICES)[number]['value'];

const DAY_MS = 86_400_000;

/** The end of the chosen day in local time, or a number of days from now. */
function expiresAt(choice: Expiry, date: string): string | undefined | null {
  if (choice === 'never') return undefined;
  if (choice === 'custom') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
    const [y, m, d] = date.split('-').map(Number) as [number, number, number];
    return new Date(y, m - 1, d, 23, 59, 59).toISOString();
  }
  return new Date(Date.now() + Number(choice) * DAY_MS).toISOString();
}

function isoDate(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

const FIELDS = ['name', 'permissions', 'expires_at'] as const;

/** Mints a key with at most the permissions the user holds; only those are offered. */
export function CreateApiKeyDialog({ open, role, onClose, onCreated }: { open: boolean; role: Role; onClose: () => void; onCreated: (k: CreatedApiKey) => void }) {
  const held = rolePermissions(role);
  const offered = PERMISSIONS.filter((p) => held.includes(p));
  const [name, setName] = useState('');
  const [permissions, setPermissions] = useState<Permission[]>(['read']);
  const [expiry, setExpiry] = useState<Expiry>('90');
  const [date, setDate] = useState(() => isoDate(Date.now() + 30 * DAY_MS));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const titleId = useId();
  const permLabelId = useId();

  const reset = () => {
    setName('');
    setPermissions(['read']);
    setExpiry('90');
    setErrors({});
    setError(null);
  };
  const close = () => {
    reset();
    onClose();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setError(null);
    const exp = expiresAt(expiry, date);
    if (exp === null) {
      setErrors({ expires_at: 'choose a date' });
      return;
    }
    setBusy(true);
    try {
      const created = await api<CreatedApiKey>('/api/v2/api-keys', {
        method: 'POST',
        body: { name: name.trim(), permissions, ...(exp !== undefined ? { expires_at: exp } : {}) },
      });
      reset();
      onCreated(created);
    } catch (err) {
      const { byField, rest } = fieldErrors(err, FIELDS);
      setErrors(byField);
      setError(rest);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={busy ? undefined : close} aria-labelledby={titleId} maxWidth="sm" fullWidth data-testid="create-api-key-dialog">
      <Box component="form" noValidate onSubmit={submit}>
        <DialogTitle id={titleId}>New API key</DialogTitle>
        <DialogContent sx={{ display: 'flex', flexDirection: 'column', gap: 2.5, pt: '8px !important' }}>
          {error && (
            <Alert severity="error" data-testid="form-error">
              {error}
            </Alert>
          )}
          <TextField
            label="Name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={!!errors.name}
            helperText={errors.name ?? 'What uses the key, e.g. “planner fleet eu-west-1” or “grafana”'}
            autoComplete="off"
            autoFocus
            fullWidth
          />
          <FormControl error={!!errors.permissions} component="fieldset">
            <FormLabel id={permLabelId} component="legend" sx={{ mb: 0.5 }}>
              Permissions
            </FormLabel>
            <FormGroup aria-labelledby={permLabelId}>
              {offered.map((p) => (
                <FormControlLabel
                  key={p}
                  sx={{ alignItems: 'flex-start', mb: 0.5, '& .MuiCheckbox-root': { pt: 0.25 } }}
                  control={
                    <Checkbox
                      size="small"
                      checked={permissions.includes(p)}
                      onChange={(e) => setPermissions((cur) => (e.target.checked ? PERMISSIONS.filter((x) => x === p || cur.includes(x)) : cur.filter((x) => x !== p)))}
                      slotProps={{ input: { 'aria-label': p } }}
                    />
                  }
                  label={
                    <Box>
                      <Typography sx={{ fontWeight: 600, fontFamily: MONO_STACK, fontSize: '0.9rem' }}>{p}</Typography>
                      <Typography variant="body2" sx={{ color: 'text.secondary' }}>
                        {PERMISSION_HELP[p]}
                      </Typography>
                    </Box>
                  }
                />
              ))}
            </FormGroup>
            <FormHelperText>{errors.permissions ?? `A key never holds more than you do (${role}).`}</FormHelperText>
          </FormControl>
          <Box sx={{ display: 'flex', gap: 2, flexWrap: 'wrap' }}>
            <TextField
              select
              label="Expires"
              value={expiry}
              onChange={(e) => setExpiry(e.target.value as Expiry)}
              sx={{ minWidth: 180 }}
              error={!!errors.expires_at && expiry !== 'custom'}
              helperText={expiry !== 'custom' ? errors.expires_at : undefined}
            >
              {EXPIRY_CHOICES.map((c) => (
                <MenuItem key={c.value} value={c.value}>
                  {c.label}
                </MenuItem>
              ))}
            </TextField>
            {expiry === 'custom' && (
              <TextField
                label="Expiry date"
                type="date"
                value={date}
                onChange={(e) => setDate(e.target.value)}
                error={!!errors.expires_at}
                helperText={errors.expires_at ?? 'The key stops working at the end of this day'}
                slotProps={{ inputLabel: { shrink: true }, htmlInput: { min: isoDate(Date.now() + DAY_MS) } }}
              />
            )}
          </Box>
          {expiry === 'never' && (
            <Alert severity="warning" variant="outlined">
              A key without an expiry works until someone revokes it.
            </Alert>
          )}
        </DialogContent>
        <DialogActions sx={{ px: 3, pb: 2 }}>
          <Button onClick={close} disabled={busy} color="inherit">
            Cancel
          </Button>
          <Button type="submit" variant="contained" disabled={busy || permissions.length === 0} startIcon={busy ? <CircularProgress size={16} color="inherit" aria-hidden /> : undefined}>
            Create key
          </Button>
        </DialogActions>
      </Box>
    </Dialog>
  );
}

async function copyText(text: string, fallbackInput: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // no clipboard API (insecure origin) or no permission: select the text and use the legacy command
    if (!fallbackInput) return false;
    fallbackInput.focus();
    fallbackInput.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/** Shows a freshly minted key once. The dialog closes only through its button, and then the key is gone. */
export function NewKeyDialog({ created, onClose }: { created: CreatedApiKey | null; onClose: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const titleId = useId();
  const close = () => {
    setCopied(null);
    onClose();
  };
  return (
    <Dialog
      open={created !== null}
      onClose={(_e, reason) => {
        if (reason !== 'backdropClick') close();
      }}
      aria-labelledby={titleId}
      maxWidth="sm"
      fullWidth
      data-testid="new-api-key-dialog"
    >
      <DialogTitle id={titleId}>API key “{created?.name}” created</DialogTitle>
      <DialogContent sx={{ display: 'flex', flexDirection: 'column', gap: 2 }}>
        <Alert severity="warning" data-testid="shown-once-warning">
          <strong>Copy the key now — you will not see it again.</strong> agentmon stores only a hash of it. If you lose it, revoke it and create a new one.
        </Alert>
        <Box sx={{ display: 'flex', gap: 1, alignItems: 'stretch' }}>
          <TextField
            value={created?.key ?? ''}
            label="API key"
            fullWidth
            inputRef={input}
            onFocus={(e) => e.target.select()}
            slotProps={{ htmlInput: { readOnly: true, spellCheck: false, 'data-testid': 'new-api-key', style: { fontFamily: MONO_STACK, fontSize: '0.9rem' } } }}
          />
          <Button
            variant={copied === 'yes' ? 'outlined' : 'contained'}
            color={copied === 'yes' ? 'success' : 'primary'}
            startIcon={copied === 'yes' ? <CheckIcon /> : <ContentCopyIcon />}
            onClick={async () => setCopied((await copyText(created?.key ?? '', input.current)) ? 'yes' : 'failed')}
            sx={{ whiteSpace: 'nowrap', px: 2.5 }}
            data-testid="copy-api-key"
          >
            {copied === 'yes' ? 'Copied' : 'Copy'}
          </Button>
        </Box>
        {copied === 'failed' && <Typography variant="body2" color="warning.main">The browser did not allow copying: select the key and copy it by hand.</Typography>}
        <Box>
          <Typography variant="body2" sx={{ color: 'text.secondary', mb: 0.5 }}>
            Send it as a header:
          </Typography>
          <Box
            component="code"
            sx={{ display: 'block', fontFamily: MONO_STACK, fontSize: '0.8rem', p: 1.5, borderRadius: 1, bgcolor: 'background.default', border: 1, borderColor: 'divider', wordBreak: 'break-all' }}
          >
            Authorization: Bearer {created ? `${created.prefix}…` : ''}
          </Box>
        </Box>
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button variant="contained" onClick={close} data-testid="close-new-api-key">
          I have copied it
        </Button>
      </DialogActions>
    </Dialog>
  );
}
