'use client';

import AccountCircleIcon from '@mui/icons-material/AccountCircle';
import DashboardIcon from '@mui/icons-material/Dashboard';
import DnsIcon from '@mui/icons-material/Dns';
import GroupIcon from '@mui/icons-material/Group';
import KeyIcon from '@mui/icons-material/Key';
import ManageSearchIcon from '@mui/icons-material/ManageSearch';
import LogoutIcon from '@mui/icons-material/Logout';
import MenuIcon from '@mui/icons-material/Menu';
import NotificationsActiveIcon from '@mui/icons-material/NotificationsActive';
import Alert from '@mui/material/Alert';
import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import Divider from '@mui/material/Divider';
import Drawer from '@mui/material/Drawer';
import IconButton from '@mui/material/IconButton';
import List from '@mui/material/List';
import ListSubheader from '@mui/material/ListSubheader';
import ListItemButton from '@mui/material/ListItemButton';
import ListItemIcon from '@mui/material/ListItemIcon';
import ListItemText from '@mui/material/ListItemText';
import Menu from '@mui/material/Menu';
import MenuItem from '@mui/material/MenuItem';
import Snackbar from '@mui/material/Snackbar';
import Toolbar from '@mui/material/Toolbar';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import NextLink from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useAuth } from '@/lib/auth';
import { useLiveState, useSocketEvent } from '@/lib/socket';
import { isAdmin, type Alert as AlertModel, type Profile, type Role } from '@/lib/types';
import { LoadingState } from './States';

const DRAWER_WIDTH = 220;

interface NavItem {
  href: string;
  label: string;
  icon: ReactNode;
  /** who sees the entry; everyone when absent */
  visible?: (role: Role) => boolean;
}

const NAV: ReadonlyArray<{ section?: string; items: readonly NavItem[] }> = [
  {
    items: [
      { href: '/', label: 'Overview', icon: <DashboardIcon /> },
      { href: '/agents', label: 'Agents', icon: <DnsIcon /> },
      { href: '/alerts', label: 'Alerts', icon: <NotificationsActiveIcon /> },
    ],
  },
  {
    section: 'Access',
    items: [
      { href: '/api-keys', label: 'API keys', icon: <KeyIcon /> },
      { href: '/users', label: 'Users', icon: <GroupIcon />, visible: isAdmin },
      { href: '/audit', label: 'Audit log', icon: <ManageSearchIcon />, visible: isAdmin },
    ],
  },
];

function isActive(pathname: string, href: string): boolean {
  return href === '/' ? pathname === '/' : pathname === href || pathname.startsWith(`${href}/`);
}

function Brand() {
  return (
    <Box component={NextLink} href="/" sx={{ display: 'flex', alignItems: 'center', gap: 1, color: 'inherit', textDecoration: 'none' }}>
      <Box component="img" src="/icon.svg" alt="" sx={{ width: 26, height: 26 }} />
      <Typography component="span" sx={{ fontWeight: 700, fontSize: '1.1rem', letterSpacing: 0.3 }}>
        agentmon
      </Typography>
    </Box>
  );
}

/** Only the entries the role may use: a viewer is not offered pages that would answer 403. */
function Navigation({ pathname, role, onNavigate }: { pathname: string; role: Role; onNavigate?: () => void }) {
  return (
    <Box component="nav" aria-label="Main" sx={{ px: 1 }}>
      {NAV.map((group, i) => {
        const items = group.items.filter((item) => !item.visible || item.visible(role));
        if (items.length === 0) return null;
        return (
          <List
            key={group.section ?? i}
            disablePadding
            sx={{ mb: 1 }}
            subheader={
              group.section ? (
                <ListSubheader disableSticky sx={{ bgcolor: 'transparent', lineHeight: '32px', fontSize: '0.75rem', textTransform: 'uppercase', letterSpacing: 0.8 }}>
                  {group.section}
                </ListSubheader>
              ) : undefined
            }
          >
            {items.map((item) => {
              const active = isActive(pathname, item.href);
              return (
                <ListItemButton
                  key={item.href}
                  component={NextLink}
                  href={item.href}
                  selected={active}
                  aria-current={active ? 'page' : undefined}
                  onClick={onNavigate}
                  sx={{ borderRadius: 1, mb: 0.5 }}
                >
                  <ListItemIcon>{item.icon}</ListItemIcon>
                  <ListItemText primary={item.label} />
                </ListItemButton>
              );
            })}
          </List>
        );
      })}
    </Box>
  );
}

function LiveIndicator() {
  const live = useLiveState();
  const label = live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting' : 'Offline';
  const color = live === 'live' ? 'success' : live === 'connecting' ? 'warning' : 'default';
  return (
    <Tooltip title={live === 'live' ? 'Receiving real-time updates' : 'Real-time updates are not connected; data may be stale'}>
      <Chip size="small" variant="outlined" color={color} label={label} data-testid="live-indicator" data-state={live} />
    </Tooltip>
  );
}

function UserMenu({ user, onLogout }: { user: Profile; onLogout: () => void }) {
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  return (
    <>
      <Button
        color="inherit"
        startIcon={<AccountCircleIcon />}
        onClick={(e) => setAnchor(e.currentTarget)}
        aria-haspopup="menu"
        aria-expanded={anchor ? 'true' : undefined}
        aria-controls={anchor ? 'user-menu' : undefined}
        data-testid="user-menu-button"
        sx={{ minWidth: 0 }}
      >
        <Box component="span" sx={{ display: { xs: 'none', sm: 'inline' } }}>
          {user.username}
        </Box>
      </Button>
      <Menu
        id="user-menu"
        anchorEl={anchor}
        open={anchor !== null}
        onClose={() => setAnchor(null)}
        anchorOrigin={{ vertical: 'bottom', horizontal: 'right' }}
        transformOrigin={{ vertical: 'top', horizontal: 'right' }}
      >
        <Box sx={{ px: 2, py: 1, minWidth: 200 }} data-testid="user-menu-profile">
          <Typography sx={{ fontWeight: 600 }}>{user.username}</Typography>
          {user.email && (
            <Typography variant="body2" sx={{ color: 'text.secondary' }}>
              {user.email}
            </Typography>
          )}
          <Chip size="small" label={user.role} sx={{ mt: 1 }} data-testid="user-role" />
        </Box>
        <Divider />
        <MenuItem
          onClick={() => {
            setAnchor(null);
            onLogout();
          }}
        >
          <ListItemIcon>
            <LogoutIcon fontSize="small" />
          </ListItemIcon>
          Log out
        </MenuItem>
      </Menu>
    </>
  );
}

/** Announces alerts that start firing anywhere while the user is looking at any page. */
function AlertToasts() {
  const [alert, setAlert] = useState<AlertModel | null>(null);
  const router = useRouter();
  useSocketEvent('alert_triggered', ({ alert: a }) => setAlert(a));
  return (
    <Snackbar
      open={alert !== null}
      autoHideDuration={8000}
      onClose={(_e, reason) => {
        if (reason !== 'clickaway') setAlert(null);
      }}
      anchorOrigin={{ vertical: 'bottom', horizontal: 'right' }}
    >
      {alert ? (
        <Alert
          severity={alert.severity === 'critical' ? 'error' : alert.severity === 'warning' ? 'warning' : 'info'}
          variant="filled"
          onClose={() => setAlert(null)}
          action={
            <Button
              color="inherit"
              size="small"
              onClick={() => {
                setAlert(null);
                router.push('/alerts');
              }}
            >
              View
            </Button>
          }
        >
          {alert.rule_name} on {alert.agent_id}
        </Alert>
      ) : undefined}
    </Snackbar>
  );
}

/** The frame of every page but /login: navigation, user menu, and the guard that requires a login. */
export function AppShell({ children }: { children: ReactNode }) {
  const { state, logout } = useAuth();
  const pathname = usePathname();
  const router = useRouter();
  const [mobileOpen, setMobileOpen] = useState(false);
  const loggingOut = useRef(false);

  useEffect(() => {
    if (state.status === 'anonymous') {
      // After an expired session, come back to the same page; after "Log out", start fresh.
      const next = loggingOut.current ? '/' : `${window.location.pathname}${window.location.search}`;
      router.replace(next !== '/' ? `/login?next=${encodeURIComponent(next)}` : '/login');
    }
  }, [state.status, router]);

  const onLogout = () => {
    loggingOut.current = true;
    void logout();
  };

  if (state.status === 'loading' || state.status === 'anonymous') {
    return (
      <Box sx={{ minHeight: '100vh', display: 'grid', placeItems: 'center' }}>
        <LoadingState label={state.status === 'anonymous' ? 'Redirecting to login…' : 'Loading…'} />
      </Box>
    );
  }
  if (state.status === 'error') {
    return (
      <Box sx={{ minHeight: '100vh', display: 'grid', placeItems: 'center', p: 2 }}>
        <Alert
          severity="error"
          variant="outlined"
          sx={{ maxWidth: 560 }}
          action={
            <Box sx={{ display: 'flex', gap: 1, whiteSpace: 'nowrap' }}>
              <Button color="inherit" size="small" onClick={state.retry}>
                Retry
              </Button>
              <Button color="inherit" size="small" onClick={onLogout}>
                Log out
              </Button>
            </Box>
          }
        >
          <strong>Could not load your profile.</strong> {state.message}
        </Alert>
      </Box>
    );
  }

  const drawer = (
    <Box sx={{ pt: 1 }}>
      <Navigation pathname={pathname} role={state.user.role} onNavigate={() => setMobileOpen(false)} />
    </Box>
  );

  return (
    <Box sx={{ display: 'flex', minHeight: '100vh' }}>
      <AppBar position="fixed" sx={{ zIndex: (t) => t.zIndex.drawer + 1 }}>
        <Toolbar variant="dense" sx={{ gap: 1.5 }}>
          <IconButton
            color="inherit"
            edge="start"
            aria-label="Open navigation"
            onClick={() => setMobileOpen(true)}
            sx={{ display: { md: 'none' } }}
          >
            <MenuIcon />
          </IconButton>
          <Brand />
          <Box sx={{ flexGrow: 1 }} />
          <LiveIndicator />
          <UserMenu user={state.user} onLogout={onLogout} />
        </Toolbar>
      </AppBar>
      <Box component="aside" sx={{ width: { md: DRAWER_WIDTH }, flexShrink: { md: 0 } }}>
        <Drawer
          variant="temporary"
          open={mobileOpen}
          onClose={() => setMobileOpen(false)}
          sx={{ display: { xs: 'block', md: 'none' }, '& .MuiDrawer-paper': { width: DRAWER_WIDTH } }}
        >
          <Toolbar variant="dense" sx={{ px: 2 }}>
            <Brand />
          </Toolbar>
          {drawer}
        </Drawer>
        <Drawer
          variant="permanent"
          open
          sx={{ display: { xs: 'none', md: 'block' }, '& .MuiDrawer-paper': { width: DRAWER_WIDTH, boxSizing: 'border-box' } }}
        >
          <Toolbar variant="dense" />
          {drawer}
        </Drawer>
      </Box>
      <Box component="main" sx={{ flexGrow: 1, minWidth: 0, p: { xs: 2, sm: 3 } }}>
        <Toolbar variant="dense" />
        {children}
      </Box>
      <AlertToasts />
    </Box>
  );
}
