'use client';

import { createTheme } from '@mui/material/styles';

/** System fonts only: the dashboard never downloads a font. */
const FONT_STACK =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif';
export const MONO_STACK = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace';

/** A dark theme in the spirit of Grafana: near-black canvas, slightly lighter panels, thin borders. */
export const theme = createTheme({
  palette: {
    mode: 'dark',
    primary: { main: '#6e9fff' },
    secondary: { main: '#ff9830' },
    success: { main: '#73bf69' },
    warning: { main: '#fade2a' },
    error: { main: '#f2495c' },
    info: { main: '#5794f2' },
    background: { default: '#111217', paper: '#181b1f' },
    divider: 'rgba(204, 204, 220, 0.12)',
    text: { primary: '#ccccdc', secondary: 'rgba(204, 204, 220, 0.65)' },
  },
  shape: { borderRadius: 6 },
  typography: {
    fontFamily: FONT_STACK,
    h1: { fontSize: '1.6rem', fontWeight: 600 },
    h2: { fontSize: '1.3rem', fontWeight: 600 },
    h3: { fontSize: '1.1rem', fontWeight: 600 },
    button: { textTransform: 'none', fontWeight: 600 },
  },
  components: {
    MuiPaper: {
      defaultProps: { elevation: 0 },
      styleOverrides: { root: { backgroundImage: 'none' } },
    },
    MuiCard: {
      defaultProps: { variant: 'outlined' },
    },
    MuiAppBar: {
      defaultProps: { elevation: 0, color: 'default' },
      styleOverrides: { root: { backgroundColor: '#181b1f', borderBottom: '1px solid rgba(204, 204, 220, 0.12)' } },
    },
    MuiTableCell: {
      styleOverrides: { head: { fontWeight: 600, color: 'rgba(204, 204, 220, 0.65)' } },
    },
    MuiChip: {
      styleOverrides: { root: { fontWeight: 600 } },
    },
  },
});
